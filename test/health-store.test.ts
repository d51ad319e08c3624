/**
 * @module test/health-store: the readiness route of a provider served by the Node adapter, for
 * the store: SQLite (migrated, not migrated, closed), the memory store, a store of one's own
 * without `health()` (read for an id that cannot exist), one that hangs (503 within the
 * timeout) and one whose error carries a password (never echoed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ActionStore, memoryStore } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { expectReadiness, probe, serveWithHealth } from './support/health.ts';
import { testProvider } from './support/providers.ts';
import { wrap } from './support/stores.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-health-'));
  dirs.push(dir);
  return join(dir, 'actions.db');
};

/** On two busy shared cores, what an answer may take beyond the timeout. */
const SLACK = 2_000;

describe('readiness: the SQLite store', () => {
  it('migrated: 200, pass, with the latency of a real query', async () => {
    const provider = testProvider({ store: await openSqliteStore(tempFile()) });
    const report = expectReadiness(await probe(await serveWithHealth(provider)), 'pass');
    expect(report.checks.store).toMatchObject({ status: 'pass', migrations: 'applied' });
    expect(report.checks.store.latency_ms).toBeGreaterThanOrEqual(0);
    expect(report.checks.store.error).toBeUndefined();
    await provider.close();
  });

  it('opened with migrate: false on a new file: 503, migrations missing; 200 once migrated', async () => {
    const store = (await openSqliteStore(tempFile(), { migrate: false })) as ActionStore & {
      migrate(): Promise<number>;
    };
    const provider = testProvider({ store });
    const origin = await serveWithHealth(provider);
    const report = expectReadiness(await probe(origin), 'fail');
    expect(report.checks.store).toMatchObject({ status: 'fail', migrations: 'missing' });
    await store.migrate();
    expect(expectReadiness(await probe(origin), 'pass').checks.store.migrations).toBe('applied');
    await provider.close();
  });

  it('closed: 503 with the reason, while liveness stays 200', async () => {
    const provider = testProvider({ store: await openSqliteStore(tempFile()) });
    const origin = await serveWithHealth(provider);
    expectReadiness(await probe(origin), 'pass');
    await provider.store.close?.();
    const report = expectReadiness(await probe(origin), 'fail');
    expect(report.checks.store.error).toMatch(/not open|closed/i);
    const live = await probe(origin, '/livez');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'pass' });
  });
});

describe('readiness: other stores', () => {
  it('the memory store: pass, nothing to migrate', async () => {
    const report = expectReadiness(await probe(await serveWithHealth(testProvider({ store: memoryStore() }))), 'pass');
    expect(report.checks.store.status).toBe('pass');
    expect(report.checks.store.migrations).toBeUndefined();
  });

  it('a store without health(): one get() of an id no action has, and pass', async () => {
    const inner = memoryStore();
    const asked: string[] = [];
    const store = wrap(inner, {
      get: (id) => {
        asked.push(id);
        return inner.get(id);
      },
    });
    const report = expectReadiness(await probe(await serveWithHealth(testProvider({ store }))), 'pass');
    expect(report.checks.store).toEqual({ status: 'pass', latency_ms: expect.any(Number) });
    expect(asked).toHaveLength(1);
  });

  it('a store that never answers: 503 "timed out" within the timeout, and again on the next probe', async () => {
    const store = wrap(memoryStore(), { get: () => new Promise(() => {}) });
    const origin = await serveWithHealth(testProvider({ store }), { timeout: 300 });
    for (let i = 0; i < 2; i++) {
      const reply = await probe(origin);
      const report = expectReadiness(reply, 'fail');
      expect(report.checks.store).toMatchObject({ status: 'fail', error: 'timed out' });
      expect(report.checks.store.latency_ms).toBeGreaterThanOrEqual(290);
      expect(reply.ms).toBeLessThan(300 + SLACK);
    }
  });

  it('a failure whose message holds a connection string: the password and a token are not in the answer', async () => {
    const cause = Object.assign(
      new Error('postgres://app:hunter2@db.internal:5432/actions: Bearer abc.def.ghi refused'),
      {
        code: 'ECONNREFUSED',
      },
    );
    const store = wrap(memoryStore(), {
      get: async () => {
        throw new Error('the store is unavailable', { cause });
      },
    });
    const reply = await probe(await serveWithHealth(testProvider({ store })));
    const report = expectReadiness(reply, 'fail');
    expect(report.checks.store.error).toBe(
      'ECONNREFUSED: postgres://db.internal:5432/actions: Bearer [redacted] refused',
    );
    expect(JSON.stringify(reply.body)).not.toMatch(/hunter2|abc\.def/);
  });
});

describe('a flood of probes', () => {
  it('shares one check among the probes that arrive while it runs', async () => {
    let gets = 0;
    const base = memoryStore();
    const store = {
      ...base,
      async health() {
        gets++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { migrations: true };
      },
    };
    const provider = testProvider({ store });
    const reports = await Promise.all(Array.from({ length: 100 }, () => provider.health()));
    expect(reports.every((report) => report.status === 'pass')).toBe(true);
    expect(gets).toBe(1);
    await provider.health();
    expect(gets).toBe(2);
  });
});
