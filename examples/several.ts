/**
 * @module examples/several: three providers in one Node process (examples/several-providers.ts)
 * under /echo, /archive and /compute on one port, one authenticator and one SQLite file in
 * DATA_DIR (or DATABASE_URL's PostgreSQL), a table prefix each. Scopes: ECHO_SCOPE,
 * ARCHIVE_SCOPE, COMPUTE_SCOPE (placeholders when unset). `npx tsx examples/several.ts`
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { dataDirFromEnv } from './auth.ts';
import { authFromEnv } from './dev-auth.ts';
import { PROVIDERS, placeholderScope, severalProviders } from './several-providers.ts';

const env = process.env;
const mode = await authFromEnv(env);
const scopes = PROVIDERS.map((p, i) => env[p.scopeVariable] ?? placeholderScope(i));
const dir = dataDirFromEnv(env);
mkdirSync(dir, { recursive: true });
const { host, providers } = await severalProviders({
  auth: mode.auth,
  scopes,
  store: async (tablePrefix) => {
    if (env['DATABASE_URL']) {
      const { postgresStore } = await import('globus-action-provider/postgres');
      return postgresStore({ url: env['DATABASE_URL'], tablePrefix });
    }
    const { openSqliteStore } = await import('globus-action-provider/sqlite');
    return openSqliteStore(join(dir, 'several-actions.db'), { tablePrefix });
  },
});
const server = serve(
  { fetch: host.fetch, port: Number(env['PORT'] ?? 8080), hostname: env['HOST'] ?? '127.0.0.1' },
  (info) => {
    const base = `http://127.0.0.1:${info.port}`;
    console.log(`Three providers listening on ${base}/`);
    for (const [i, p] of PROVIDERS.entries()) console.log(`  ${base}${p.prefix}/  (scope ${scopes[i]})`);
    if (mode.dev) console.log('  dev mode: mint a token per scope with `npm run -s token -- --scope <scope>`');
  },
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => void Promise.all(providers.map((p) => p.close())).then(() => process.exit(0)));
  });
}
