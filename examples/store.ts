/**
 * @module examples/store: where the examples keep actions (Node, Bun, Deno):
 * DATABASE_URL set → PostgreSQL; otherwise an embedded SQLite file in DATA_DIR (default
 * `.data`), so actions survive a restart out of the box. STORE=memory keeps them in memory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionStore } from 'globus-action-provider';
import { dataDirFromEnv } from './auth.ts';

/** `name` names the SQLite file (`<name>-actions.db`), so the examples can share a DATA_DIR. */
export async function storeFromEnv(env: Record<string, unknown>, name = 'echo'): Promise<ActionStore | undefined> {
  if (env['STORE'] === 'memory') return undefined;
  if (typeof env['DATABASE_URL'] === 'string' && env['DATABASE_URL'] !== '') {
    const { postgresStore } = await import('globus-action-provider/postgres');
    return postgresStore({ url: env['DATABASE_URL'] });
  }
  const dir = dataDirFromEnv(env);
  mkdirSync(dir, { recursive: true });
  const { openSqliteStore } = await import('globus-action-provider/sqlite');
  return openSqliteStore(join(dir, `${name}-actions.db`));
}
