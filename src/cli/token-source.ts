/**
 * @module cli/token-source: where a command's bearer token comes from, in this order: `--token`,
 * the `GLOBUS_ACTION_PROVIDER_TOKEN` environment variable, or a token minted from the dev-mode
 * key a provider in dev mode keeps (`--dev-dir`, else `$DATA_DIR`, else `.data`, when a key is
 * there). None of them: no token (introspection needs none).
 */
import { devAuth } from '../dev/auth.ts';
import { DevKeyError } from '../dev/errors.ts';
import type { DevMintOptions } from '../dev/mint.ts';
import { type CliIo, UsageError } from './command.ts';

export const TOKEN_ENV = 'GLOBUS_ACTION_PROVIDER_TOKEN';
/** Where the examples keep their data (and `npm start` its key) when DATA_DIR is not set. */
export const DEFAULT_DEV_DIR = '.data';

/** The options every command that sends a token takes (spread into its `parseArgs` options). */
export const tokenOptions = {
  token: { type: 'string' },
  'dev-dir': { type: 'string' },
} as const;

/** Their lines in a command's `--help`. */
export const TOKEN_HELP = `  --token <token>       the bearer token (default: $${TOKEN_ENV},
                        else a dev-mode token from the key in --dev-dir)
  --dev-dir <path>      a dev-mode provider's data directory, to mint a token from its key
                        (default: $DATA_DIR, or ${DEFAULT_DEV_DIR}; used only when it has a key)`;

export interface TokenValues {
  token?: string | undefined;
  'dev-dir'?: string | undefined;
}

/**
 * The token to send, or undefined for none. A dev-mode token says so on stderr (it is accepted
 * only by a provider in dev mode). `mint` says who a dev token is for (another identity, say).
 */
export async function resolveToken(
  values: TokenValues,
  io: CliIo,
  mint: DevMintOptions = {},
): Promise<string | undefined> {
  if (values.token !== undefined) {
    if (values.token.trim() === '' || /\s/.test(values.token.trim())) throw new UsageError('--token must be a token');
    return values.token.trim();
  }
  const fromEnv = io.env[TOKEN_ENV]?.trim();
  if (fromEnv) return fromEnv;
  const explicit = values['dev-dir'];
  if (explicit === '') throw new UsageError('--dev-dir must be a path');
  const dir = explicit ?? (io.env['DATA_DIR'] || DEFAULT_DEV_DIR);
  let dev: Awaited<ReturnType<typeof devAuth>>;
  try {
    dev = await devAuth({ dir, create: false });
  } catch (error) {
    // No key there: no token, unless the directory was named, which then must hold one.
    if (error instanceof DevKeyError && error.code === 'ERR_DEV_KEY_MISSING' && explicit === undefined)
      return undefined;
    throw error;
  }
  const token = await dev.mint(mint);
  io.stderr(`using a dev-mode token from the key in ${dir}\n`);
  return token;
}
