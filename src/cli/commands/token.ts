/**
 * @module cli/commands/token: `globus-action-provider token`, a fresh dev-mode token from the
 * key a provider in dev mode keeps in its data directory, printed alone on stdout.
 */
import { identityId } from '../../auth/jwt/claims.ts';
import { devAuth } from '../../dev/auth.ts';
import {
  EXPIRES_IN_RULE,
  expiresInSeconds,
  GROUP_RULE,
  IDENTITY_RULE,
  isGroup,
  isScope,
  isUsername,
  SCOPE_RULE,
  USERNAME_RULE,
} from '../../dev/mint.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';

/** Where the examples keep their data (and `npm start` its key) when DATA_DIR is not set. */
const DEFAULT_DEV_DIR = '.data';

const help = `Usage: globus-action-provider token [options]

Mint a token for a provider in dev mode (globus-action-provider/dev), signed with the key in
its data directory, and print only the token:

  TOKEN=$(npx globus-action-provider token)

Options:
  --dir <path>          the provider's data directory (default: $DATA_DIR, or ${DEFAULT_DEV_DIR})
  --scope <scopes>      the scopes granted, space-separated (default: the scope the provider
                        recorded when it started)
  --identity <id>       the caller: a Globus identity id or URN (default: the dev identity)
  --group <id>          a group the caller is in (repeat for several)
  --expires-in <time>   seconds, or 90s, 30m, 12h, 7d (default 1h, at most 30d)
  --mfa                 the login was multi-factor (for a provider with requireSession)
  --username <name>     the login's username, user@domain (requireSession's domains)
  -h, --help            show this help

It never makes a key: with none in the directory it fails (exit 1). Exit 2: bad arguments.
`;

const options = {
  dir: { type: 'string' },
  scope: { type: 'string' },
  identity: { type: 'string' },
  group: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
  mfa: { type: 'boolean' },
  username: { type: 'string' },
} as const;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, options);
  const dir = values.dir ?? (io.env['DATA_DIR'] || DEFAULT_DEV_DIR);
  if (dir === '') throw new UsageError('--dir must be a path');
  if (values.scope !== undefined && !isScope(values.scope)) throw new UsageError(`--scope must be ${SCOPE_RULE}`);
  if (values.identity !== undefined && identityId(values.identity) === undefined)
    throw new UsageError(`--identity must be ${IDENTITY_RULE}`);
  const groups = values.group ?? [];
  const badGroup = groups.find((group) => !isGroup(group));
  if (badGroup !== undefined) throw new UsageError(`--group must be ${GROUP_RULE}, not '${badGroup}'`);
  const expiresIn = values['expires-in'] === undefined ? undefined : expiresInSeconds(values['expires-in']);
  if (expiresIn === undefined && values['expires-in'] !== undefined)
    throw new UsageError(`--expires-in must be ${EXPIRES_IN_RULE}`);
  if (values.username !== undefined && !isUsername(values.username))
    throw new UsageError(`--username must be ${USERNAME_RULE}`);

  // Load only: a key made here would be one no running provider trusts.
  const dev = await devAuth({ dir, create: false });
  const scope = values.scope ?? dev.scope;
  if (scope === undefined)
    throw new UsageError(`no scope is recorded in ${dir} (the provider records it when it starts): pass --scope`);
  const token = await dev.mint({
    scope,
    ...(values.identity === undefined ? {} : { identity: values.identity }),
    ...(groups.length === 0 ? {} : { groups }),
    ...(expiresIn === undefined ? {} : { expiresIn }),
    ...(values.mfa === true ? { mfa: true } : {}),
    ...(values.username === undefined ? {} : { username: values.username }),
  });
  io.stdout(`${token}\n`);
  return 0;
}

export const token: Command = { name: 'token', summary: 'mint a dev-mode token and print it', help, run };
