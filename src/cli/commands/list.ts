/** @module cli/commands/list: `globus-action-provider list URL`, the caller's actions as a table. */
import type { EnumerateRole } from '../../context.ts';
import { ACTION_STATUSES, type ActionStatusValue } from '../../model.ts';
import { UsageError } from '../command.ts';
import { formatList, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';

const ROLES: readonly EnumerateRole[] = ['creator_id', 'monitor_by', 'manage_by'];

const help = `Usage: globus-action-provider list URL [options]

List your actions on the Action Provider at URL (GET URL/actions): by default those ACTIVE
that you created.

  npx globus-action-provider list http://127.0.0.1:8080 --status succeeded,failed
  npx globus-action-provider list http://127.0.0.1:8080 --roles creator_id,manage_by

Options:
  --status <list>       statuses, separated by commas (default ACTIVE):
                        ${ACTION_STATUSES.join(', ')}
  --roles <list>        your roles, separated by commas (default creator_id):
                        ${ROLES.join(', ')}
${PROVIDER_HELP}

${EXIT_HELP}
`;

function listOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  norm: (s: string) => string,
) {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => norm(s.trim()))
    .filter((s) => s !== '');
  const bad = items.find((item) => !(allowed as readonly string[]).includes(item));
  if (items.length === 0 || bad !== undefined)
    throw new UsageError(
      `--${name} must be one or more of ${allowed.join(', ')}${bad === undefined ? '' : `, not '${bad}'`}`,
    );
  return items as T[];
}

export const list = providerCommand({
  name: 'list',
  summary: 'list your actions',
  help,
  options: { status: { type: 'string' }, roles: { type: 'string' } },
  positionals: ['URL'],
  check: (values) => {
    const status = listOf<ActionStatusValue>('status', values.status, ACTION_STATUSES, (s) => s.toUpperCase());
    const roles = listOf<EnumerateRole>('roles', values.roles, ROLES, (s) => s.toLowerCase());
    return { status, roles };
  },
  run: async ({ input: { status, roles }, client, io, json: asJson }) => {
    const actions = await client.list({
      ...(status === undefined ? {} : { status }),
      ...(roles === undefined ? {} : { roles }),
    });
    if (asJson) io.stdout(json(actions));
    else if (actions.length === 0) io.stderr('No actions.\n');
    else io.stdout(formatList(actions));
    return 0;
  },
});
