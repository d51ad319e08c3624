/**
 * @module examples/dev-auth: the configured authenticator (examples/auth.ts), or DEV MODE from
 * globus-action-provider/dev when there is none: a key kept in DATA_DIR (default `.data`), and
 * the banner with commands to paste.
 */
import { devAuth, devBanner } from 'globus-action-provider/dev';
import { configuredAuth, dataDirFromEnv, type ExampleAuth, scopeFromEnv } from './auth.ts';

export async function authFromEnv(env: Record<string, unknown>): Promise<ExampleAuth> {
  const configured = configuredAuth(env);
  if (configured) return configured;
  const scope = scopeFromEnv(env);
  const dir = dataDirFromEnv(env);
  const dev = await devAuth({ dir, scope });
  return { auth: dev.auth, scope, dev: { token: await dev.mint(), dir } };
}

/** What an entry prints once it listens: in dev mode, commands that run, read and release an action. */
export function banner(
  url: string,
  mode: ExampleAuth,
  title = 'Echo provider',
  body: Record<string, unknown> = { input_string: 'hello' },
): string {
  if (mode.dev === undefined) return `${title} listening on ${url}/ (scope ${mode.scope})`;
  return devBanner({
    url,
    token: mode.dev.token,
    dir: mode.dev.dir,
    title,
    body,
    // In this repository the CLI runs from its TypeScript source (where the package is
    // installed, the default `npx globus-action-provider token` is the one).
    tokenCommand: 'npm run -s token --',
  });
}
