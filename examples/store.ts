/**
 * @module examples/store: where the examples keep actions (Node, Bun, Deno):
 * DATABASE_URL set → PostgreSQL; otherwise an embedded SQLite file in DATA_DIR (default
 * `.data`), so actions survive a restart out of the box. STORE=memory keeps them in memory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionStore } from '../src/index.ts';

export async function storeFromEnv(env: Record<string, unknown>): Promise<ActionStore | undefined> {
  if (env['STORE'] === 'memory') return undefined;
  if (typeof env['DATABASE_URL'] === 'string' && env['DATABASE_URL'] !== '') {
    const { postgresStore } = await import('../src/store/postgres.ts');
    return postgresStore({ url: env['DATABASE_URL'] });
  }
  const dir = typeof env['DATA_DIR'] === 'string' && env['DATA_DIR'] !== '' ? env['DATA_DIR'] : '.data';
  mkdirSync(dir, { recursive: true });
  const { openSqliteStore } = await import('../src/store/sqlite.ts');
  return openSqliteStore(join(dir, 'echo-actions.db'));
}
