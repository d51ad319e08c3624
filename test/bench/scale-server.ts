/**
 * @module test/bench/scale-server: the server side of test/bench/scale.ts, run as its child
 * process (bundled by esbuild, run by `node --expose-gc`), never on its own. One process serves
 * one thing:
 *
 * - `hono`: a bare Hono app answering `GET /:id/status` with the JSON body BENCH_BODY (a real
 *   status answer of the provider, re-serialised by `c.json` as core.ts's baseline does), served
 *   by @hono/node-server's serve();
 * - `provider`: the echo provider (examples/echo.ts without its Server-Timing hook; dev JWT
 *   authenticator whose key the parent made in BENCH_KEY_DIR, so the parent mints the tokens;
 *   silent logger) on the store BENCH_STORE names, served by adapters/node.ts with no sweeper:
 *   `memory` (memoryStore(), passed explicitly), `sqlite` (openSqliteStore on BENCH_DATA_DIR/
 *   actions.db: better-sqlite3, its writer thread, reads on this thread, as users open it) or
 *   `postgres` (postgresStore on BENCH_DATABASE_URL).
 *
 * It sends `ready` (its port), then answers over the IPC channel: `take` (an action read through
 * the store, then deleted: the parent's template), `seed` (memory store only: actions `from` to
 * `to - 1` of the plan, each record `JSON.parse` of its own text, its creator URN then one
 * string in its three places as in a real run's record, through `store.create`), `rss` (RSS
 * and heapUsed after two forced collections), `cpu` (the process's CPU time, its threads' and
 * SQLite's included, not PostgreSQL's, a process of its own; and the time spent in garbage
 * collection) and `exit`.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { serve as honoServe } from '@hono/node-server';
import { Hono } from 'hono';
import { serve } from '../../adapters/node.ts';
import { echoProvider } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import { type ActionRecord, type ActionStore, memoryStore, silentLogger } from '../../src/index.ts';
import { recordMaker, type SeedPlan } from './scale-records.ts';

export type StoreName = 'memory' | 'sqlite' | 'postgres';
export type ToChild =
  | { type: 'take'; actionId: string }
  | { type: 'seed'; plan: SeedPlan; from: number; to: number }
  | { type: 'rss' }
  | { type: 'cpu' }
  | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'taken'; record: string }
  | { type: 'seeded'; ms: number; size: number }
  | { type: 'rss'; rss: number; heapUsed: number }
  | { type: 'cpu'; micros: number; gcMs: number };

const send = (message: FromChild) => process.send?.(message);
const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};

function forcedGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  // Twice: the first pass may only promote what the second frees.
  gc();
  gc();
}

async function openStore(name: string): Promise<ActionStore & { size?: number }> {
  switch (name) {
    case 'memory':
      return memoryStore({ maxActions: Number.POSITIVE_INFINITY }); // --sizes may pass its default bound
    case 'sqlite': {
      const { openSqliteStore } = await import('../../src/store/sqlite.ts');
      // BENCH_SQLITE_MMAP (bytes): the store's mmapSize, to compare with its default.
      const mmap = process.env['BENCH_SQLITE_MMAP'];
      return openSqliteStore(join(env('BENCH_DATA_DIR'), 'actions.db'), mmap ? { mmapSize: Number(mmap) } : {});
    }
    case 'postgres': {
      const { postgresStore } = await import('../../src/store/postgres.ts');
      return postgresStore({ url: env('BENCH_DATABASE_URL') });
    }
    default:
      throw new Error(`BENCH_STORE: memory, sqlite or postgres, not ${name}`);
  }
}

/** Actions `from` to `to - 1` through the store's create(), each record parsed from its own text. */
async function seed(store: ActionStore, plan: SeedPlan, from: number, to: number): Promise<number> {
  const make = recordMaker(plan);
  const started = performance.now();
  for (let i = from; i < to; i++) {
    const record = JSON.parse(make(i)) as ActionRecord;
    // One string in the three places, as lifecycle.ts writes a run's record (all three are the
    // caller's identity): parsed, each would be a copy of its own.
    if (record.monitor_by.length !== 1 || record.manage_by.length !== 1) throw new Error('seed: template roles');
    (record.monitor_by as string[])[0] = record.creator_id;
    (record.manage_by as string[])[0] = record.creator_id;
    const result = await store.create(record);
    if (!result.created) throw new Error(`seed: action ${i} was not created`);
  }
  return performance.now() - started;
}

/** Milliseconds spent in garbage collection so far (what a large heap costs each request). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

const mode = process.argv[2];
let close = async () => {};
let store: (ActionStore & { size?: number }) | undefined;

if (mode === 'hono') {
  const body = JSON.parse(env('BENCH_BODY')) as object;
  const app = new Hono();
  app.get('/:id/status', (c) => c.json(body));
  const port = await new Promise<number>((resolve) => {
    honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
  send({ type: 'ready', port });
} else if (mode === 'provider') {
  const dev = await devAuth({ dir: env('BENCH_KEY_DIR'), create: false });
  const opened = await openStore(env('BENCH_STORE'));
  store = opened;
  const provider = echoProvider({ serverTiming: false, auth: dev.auth, logger: silentLogger, store: opened });
  const server = await serve(provider, { port: 0, handleSignals: false, sweepInterval: 0 });
  close = async () => {
    await server.close();
    await opened.close?.();
  };
  send({ type: 'ready', port: server.port });
} else {
  throw new Error(`usage: scale-server.ts hono|provider (got ${String(mode)})`);
}

// The parent went away (finished or crashed): nothing to serve any more.
process.once('disconnect', () => process.exit(0));

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'take':
      void (async () => {
        const record = await store?.get(message.actionId);
        if (record === undefined || !(await store?.delete(message.actionId)))
          throw new Error(`take: no action ${message.actionId}`);
        send({ type: 'taken', record: JSON.stringify(record) });
      })();
      break;
    case 'seed':
      void (async () => {
        if (store === undefined || store.size === undefined) throw new Error('seed: the memory store only');
        const ms = await seed(store, message.plan, message.from, message.to);
        send({ type: 'seeded', ms, size: store.size });
      })();
      break;
    case 'rss': {
      forcedGc();
      const { rss, heapUsed } = process.memoryUsage();
      send({ type: 'rss', rss, heapUsed });
      break;
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system, gcMs });
      break;
    }
    case 'exit':
      void close().finally(() => process.exit(0));
  }
});
