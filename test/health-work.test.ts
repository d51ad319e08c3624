/**
 * @module test/health-work: the readiness route for background work, on the memory, SQLite and
 * PostgreSQL (pg-boss) engines, over real HTTP: running while the server runs, with `lag_ms`
 * growing while due work waits for a free slot; a stopped worker fails readiness (503) while
 * work queued meanwhile waits longer and longer; a provider no one has started only warns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { nodeListener } from '../adapters/node.ts';
import { type ActionProvider, type ActionStore, memoryStore, type WorkContext } from '../src/index.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { actionClient } from '../src/testing/index.ts';
import { start } from './support/actions.ts';
import { gate, sleep, until } from './support/async.ts';
import { expectReadiness, probe, serveWithHealth } from './support/health.ts';
import { listenNode } from './support/hosts.ts';
import { tokens } from './support/identities.ts';
import { uniqueName } from './support/postgres.ts';
import { testProvider } from './support/providers.ts';

const T = await tokens();
const dirs: string[] = [];
const providers: ActionProvider[] = [];
afterAll(async () => {
  for (const p of providers) await p.close().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const FAST = { heartbeat: 50, lease: 500, retryDelay: 10, pollInterval: 20, shutdownGrace: 100, concurrency: 1 };
const ENGINES: { name: string; engine: string; store: () => Promise<ActionStore>; fast: typeof FAST }[] = [
  { name: 'memory', engine: 'memory', store: async () => memoryStore(), fast: FAST },
  {
    name: 'SQLite',
    engine: 'sqlite',
    store: () => {
      const dir = mkdtempSync(join(tmpdir(), 'gap-health-work-'));
      dirs.push(dir);
      return openSqliteStore(join(dir, 'actions.db'));
    },
    fast: FAST,
  },
  {
    name: 'PostgreSQL (pg-boss)',
    engine: 'pg-boss',
    store: () => postgresStore({ url: inject('databaseUrl'), tablePrefix: `${uniqueName('hw')}_` }),
    // pg-boss's shortest lease is 10 s.
    fast: { ...FAST, lease: 10_000, heartbeat: 200, pollInterval: 50 },
  },
];

/** A provider whose work waits for `release` (or its signal), one at a time. */
function blockingProvider(store: ActionStore, fast: typeof FAST, release: Promise<void>): ActionProvider {
  const work = async ({ signal }: WorkContext) => {
    await Promise.race([release, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
    return { status: 'SUCCEEDED' as const };
  };
  const provider = testProvider({ store, work, worker: fast });
  providers.push(provider);
  return provider;
}

describe.each(ENGINES)('readiness: background work on $name', { timeout: 30_000 }, ({ engine, store, fast }) => {
  it('running, with lag_ms growing while due work waits for the one slot, and 0 once it is taken', async () => {
    const release = gate();
    const provider = blockingProvider(await store(), fast, release.promise);
    const origin = await serveWithHealth(provider);
    const client = actionClient(`${origin}/echo`, { token: T.creator });
    const first = expectReadiness(await probe(origin), 'pass');
    expect(first.checks.work).toEqual({ status: 'pass', running: true, lag_ms: 0, engine });

    await start(client); // takes the slot and holds it
    await until(() => (provider.worker?.running === 1 ? true : undefined));
    const second = await start(client); // due, and waiting
    await sleep(300);
    const waiting = expectReadiness(await probe(origin), 'pass').checks.work;
    await sleep(300);
    const later = expectReadiness(await probe(origin), 'pass').checks.work;
    expect(waiting?.lag_ms).toBeGreaterThanOrEqual(200);
    expect(later?.lag_ms).toBeGreaterThanOrEqual((waiting?.lag_ms ?? 0) + 200);
    expect(later).toMatchObject({ status: 'pass', running: true, engine });

    release.open();
    // The slot freed, the waiting work is taken (and done): nothing waits any more.
    await until(async () => ((await probe(origin)).body.checks.work.lag_ms === 0 ? true : undefined), 10_000);
    await until(async () => ((await client.status(second.action_id)).body.status === 'SUCCEEDED' ? true : undefined));
  });

  it('stopped: 503, not running, and work queued meanwhile waits longer and longer', async () => {
    const release = gate();
    release.open();
    const provider = blockingProvider(await store(), fast, release.promise);
    const origin = await serveWithHealth(provider);
    expectReadiness(await probe(origin), 'pass');
    await provider.worker?.stop();
    const stopped = expectReadiness(await probe(origin), 'fail');
    expect(stopped.checks.work).toEqual({ status: 'fail', running: false, lag_ms: 0, engine, error: 'stopped' });
    expect(stopped.checks.store.status).toBe('pass');

    await start(actionClient(`${origin}/echo`, { token: T.creator }));
    await sleep(200);
    const a = expectReadiness(await probe(origin), 'fail').checks.work?.lag_ms ?? 0;
    await sleep(200);
    const b = expectReadiness(await probe(origin), 'fail').checks.work?.lag_ms ?? 0;
    expect(a).toBeGreaterThanOrEqual(100);
    expect(b).toBeGreaterThanOrEqual(a + 100);
    expect((await probe(origin, '/livez')).status).toBe(200);
  });
});

it('a provider in a host that has not started its worker: 200 with a warning, not started yet', async () => {
  const provider = testProvider({ work: () => ({ status: 'SUCCEEDED' }) });
  providers.push(provider);
  const host = await listenNode(nodeListener(provider, { prefix: '/echo', health: true }));
  try {
    const origin = new URL(host.url).origin;
    const report = expectReadiness(await probe(origin), 'warn');
    expect(report.checks.work).toEqual({
      status: 'warn',
      running: false,
      lag_ms: 0,
      engine: 'memory',
      error: 'not started yet',
    });
    await provider.worker?.start();
    expectReadiness(await probe(origin), 'pass');
  } finally {
    await host.stop();
  }
});

it('a provider without work: no work check', async () => {
  const report = await testProvider().health();
  expect(report.checks.work).toBeUndefined();
  expect(Object.keys(report.checks)).toEqual(['store', 'auth']);
});
