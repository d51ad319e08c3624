/**
 * @module test/bench/stores-server: the server side of test/bench/stores.ts, run as its child
 * process (never on its own). Two modes:
 *
 * - `serve`: the echo provider (examples/echo.ts; dev JWT authenticator whose key is read from
 *   BENCH_KEY_DIR, so the parent can mint tokens; silent logger; no sweeper) on the store named
 *   by BENCH_STORE (`memory`, `sqlite`, `node-sqlite`, `pglite`, `postgres`), served by adapters/node.ts.
 *   SQLite and PGlite keep their files in BENCH_DATA_DIR; PostgreSQL is BENCH_DATABASE_URL with
 *   tables prefixed BENCH_TABLE_PREFIX. Sends `ready` (port, and how long the store took to
 *   open), then answers `cpu` and exits on `exit`.
 * - `open`: how long an embedded engine takes to start in a fresh process: importing its
 *   module, the first open of a new database (creating it, and the store's migration), and a
 *   reopen of that database. BENCH_ENGINE is `sqlite` or `pglite`. Sends `opened`, then exits.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '../../adapters/node.ts';
import { echoProvider } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import { type ActionStore, silentLogger } from '../../src/index.ts';

export type StoreName = 'memory' | 'sqlite' | 'node-sqlite' | 'pglite' | 'postgres';
export type ToChild = { type: 'cpu' } | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; port: number; openMs: number }
  | { type: 'cpu'; micros: number }
  | { type: 'opened'; importMs: number; firstOpenMs: number; reopenMs: number };

const send = (message: FromChild) => process.send?.(message);
const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};

/** Open the named store; the time it took is reported with `ready`. */
async function openStore(name: StoreName): Promise<ActionStore | undefined> {
  switch (name) {
    case 'memory':
      return undefined; // the provider's default memoryStore()
    case 'sqlite': {
      const { default: Database } = await import('better-sqlite3');
      const { sqliteStore } = await import('../../src/store/sqlite.ts');
      return sqliteStore(new Database(join(env('BENCH_DATA_DIR'), 'actions.db'))); // WAL, synchronous FULL (the defaults)
    }
    case 'node-sqlite': {
      const { DatabaseSync } = await import('node:sqlite');
      const { sqliteStore } = await import('../../src/store/sqlite.ts');
      return sqliteStore(new DatabaseSync(join(env('BENCH_DATA_DIR'), 'actions.db'))); // the same settings as 'sqlite'
    }
    case 'pglite': {
      const { PGlite } = await import('@electric-sql/pglite');
      const { pgliteStore } = await import('./pglite-driver.ts');
      return pgliteStore(await PGlite.create(join(env('BENCH_DATA_DIR'), 'pglite')));
    }
    case 'postgres': {
      const { postgresStore } = await import('../../src/store/postgres.ts');
      return postgresStore({
        url: env('BENCH_DATABASE_URL'),
        tablePrefix: process.env['BENCH_TABLE_PREFIX'] ?? 'gap_',
      });
    }
  }
}

/** Import, first open (create + migrate), close, reopen: wall-clock ms of each step. */
async function measureOpen(engine: string): Promise<{ importMs: number; firstOpenMs: number; reopenMs: number }> {
  const dir = env('BENCH_DATA_DIR');
  let t = performance.now();
  if (engine === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const { sqliteStore } = await import('../../src/store/sqlite.ts');
    const importMs = performance.now() - t;
    const path = join(dir, 'open-test.db');
    t = performance.now();
    const first = await sqliteStore(new Database(path));
    const firstOpenMs = performance.now() - t;
    await first.close?.();
    t = performance.now();
    const again = await sqliteStore(new Database(path));
    const reopenMs = performance.now() - t;
    await again.close?.();
    return { importMs, firstOpenMs, reopenMs };
  }
  if (engine === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const { pgliteStore } = await import('./pglite-driver.ts');
    const importMs = performance.now() - t;
    const path = join(dir, 'open-test-pglite');
    t = performance.now();
    const first = await pgliteStore(await PGlite.create(path));
    const firstOpenMs = performance.now() - t;
    await first.close?.();
    t = performance.now();
    const again = await pgliteStore(await PGlite.create(path));
    const reopenMs = performance.now() - t;
    await again.close?.();
    return { importMs, firstOpenMs, reopenMs };
  }
  throw new Error(`BENCH_ENGINE: sqlite or pglite (got ${engine})`);
}

const mode = process.argv[2];
if (mode === 'open') {
  send({ type: 'opened', ...(await measureOpen(env('BENCH_ENGINE'))) });
  process.exit(0);
} else if (mode !== 'serve') {
  throw new Error(`usage: stores-server.ts serve|open (got ${String(mode)})`);
}

const dev = await devAuth({ dir: env('BENCH_KEY_DIR'), create: false });
const started = performance.now();
const store = await openStore(env('BENCH_STORE') as StoreName);
const openMs = performance.now() - started;
const provider = echoProvider({
  serverTiming: false,
  auth: dev.auth,
  logger: silentLogger,
  ...(store ? { store } : {}),
});
const server = await serve(provider, { port: 0, handleSignals: false, sweepInterval: 0 });
send({ type: 'ready', port: (server.server.address() as AddressInfo).port, openMs });

// The parent went away (finished or crashed): nothing to serve any more.
process.once('disconnect', () => process.exit(0));

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
      break;
    }
    case 'exit':
      void (async () => {
        await server.close();
        await store?.close?.();
        process.exit(0);
      })();
  }
});
