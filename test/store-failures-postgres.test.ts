/**
 * @module test/store-failures-postgres: a PostgreSQL server of this file's own, stopped (a
 * crash), frozen (SIGSTOP: connections open, nothing answers) and made read-only under load.
 * Each time: every answer is 2xx or 503 ServiceUnavailable with Retry-After, within the store's
 * timeout; the provider serves again by itself once the server is back; nothing acknowledged
 * is lost; and the real cause is logged, once per cause per interval.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionProvider, ActionStore } from '../src/index.ts';
import { type PostgresClient, postgresDriver, postgresStore } from '../src/store/postgres.ts';
import { stmt } from '../src/store/sql-driver.ts';
import { sleep } from './support/async.ts';
import { drill, expectNothingLost, expectOnly2xxOr503 } from './support/faults.ts';
import { mint, USERS } from './support/identities.ts';
import { type CapturingLogger, captureLogger } from './support/logger.ts';
import { type PostgresServer, startPostgres, uniqueName } from './support/postgres.ts';
import { testProvider } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

const TIMEOUT = 1_000;
/** What an answer may take beyond the store's timeout on two busy shared cores. */
const SLACK = 2_000;

let server: PostgresServer;
let store: ActionStore;
let provider: ActionProvider;
let logger: CapturingLogger;
let skew = 0;
let token: string;

beforeAll(async () => {
  server = await startPostgres();
  store = await postgresStore({
    url: server.url,
    tablePrefix: `${uniqueName('f')}_`,
    max: 4,
    connectTimeout: TIMEOUT,
    statementTimeout: TIMEOUT,
  });
  logger = captureLogger();
  provider = testProvider({ store, logger, runTimeout: 1_000, clock: () => Date.now() + skew });
  token = await mint(USERS.creator);
});
afterAll(async () => {
  await store?.close?.();
  server?.stop();
});

const client = () => inProcessClient(provider, { token });
const failures = () => logger.lines.filter((line) => line.message === 'request failed');

// Each drill loads for a few seconds and then reads back every acknowledged action: slow on busy cores.
describe('postgresStore under failure', { timeout: 60_000 }, () => {
  it('stopped mid-load (a crash), then restarted: 503 within the timeout, serving again by itself, nothing acknowledged lost', async () => {
    const before = failures().length;
    const d = await drill(client(), { inject: () => server.halt('immediate'), lift: () => server.restart() });
    const unavailable = expectOnly2xxOr503(d, TIMEOUT + SLACK);
    console.info(
      `stopped: ${unavailable.length} answered 503, slowest ${Math.round(Math.max(...unavailable.map((o) => o.ms)))} ms; ` +
        `serving again ${Math.round(d.recoveredIn)} ms after the restarted server was ready`,
    );
    // The client reconnects within its capped backoff (0.5 s), not its own (up to 20 s).
    expect(d.recoveredIn).toBeLessThan(5_000);
    await expectNothingLost(client(), d);
    // The cause, not a generic line per request: a few distinct causes (connection reset,
    // refused) for many failed requests.
    const logged = failures().slice(before);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThan(Math.min(10, unavailable.length));
    expect(JSON.stringify(logged)).toMatch(/ECONNREFUSED|CONNECTION_CLOSED|ECONNRESET|57P0/);
  });

  it('frozen mid-load (SIGSTOP): 503 within the statement timeout, serving again on SIGCONT, nothing acknowledged lost', async () => {
    // Frozen for 3.5 s: each worker then sends at least one request that starts and waits out
    // the 1 s timeout inside the fault, even when the requests in flight at the freeze end late.
    const d = await drill(client(), { inject: () => server.freeze(), lift: () => server.thaw() }, { faultMs: 3_500 });
    const unavailable = expectOnly2xxOr503(d, TIMEOUT + SLACK);
    const during = unavailable.filter((o) => o.at >= d.injectedAt + 100 && o.at + o.ms <= d.liftedAt);
    expect(during.length).toBeGreaterThan(0);
    // Nothing answers while frozen: each of those waited out the timeout, and no longer.
    for (const o of during) expect(o.ms).toBeGreaterThan(TIMEOUT - 50);
    console.info(
      `frozen: ${unavailable.length} answered 503, in ${Math.round(Math.min(...during.map((o) => o.ms)))}` +
        `-${Math.round(Math.max(...during.map((o) => o.ms)))} ms; serving again ${Math.round(d.recoveredIn)} ms after SIGCONT`,
    );
    await expectNothingLost(client(), d);
    expect(JSON.stringify(failures())).toMatch(/did not answer within 1000 ms|CONNECT_TIMEOUT/);
  });

  it('read-only (default_transaction_read_only): runs 503, status still 200, writable again by itself', async () => {
    // The admin session stays writable whatever the server default is, so it can undo it.
    const admin = postgres(server.url, {
      max: 1,
      onnotice: () => {},
      connection: { default_transaction_read_only: false },
    });
    const setReadOnly = async (on: boolean) => {
      await admin.unsafe(
        on ? 'ALTER SYSTEM SET default_transaction_read_only = on' : 'ALTER SYSTEM RESET default_transaction_read_only',
      );
      await admin.unsafe('SELECT pg_reload_conf()');
      await sleep(100); // sessions take the new default at their next command
    };
    try {
      const d = await drill(client(), { inject: () => setReadOnly(true), lift: () => setReadOnly(false) });
      const unavailable = expectOnly2xxOr503(d, TIMEOUT + SLACK);
      expect(unavailable.some((o) => o.op === 'run')).toBe(true);
      // Reads are never refused for read-only (that refusal is at once); on a loaded machine (CI
      // runs every file at once) a read may still wait out the statement timeout, as always.
      const timedOut = (o: { ms: number }) => o.ms >= TIMEOUT - 50;
      const refusedReads = unavailable.filter((o) => o.op === 'status' && !timedOut(o));
      expect(refusedReads.map((o) => `${o.status} ${o.code} in ${Math.round(o.ms)} ms`)).toEqual([]);
      const reads = d.load.outcomes.filter((o) => o.op === 'status' && o.at > d.injectedAt + 200 && o.at < d.liftedAt);
      expect(reads.filter((o) => o.status === 200).length).toBeGreaterThan(0);
      for (const o of reads) expect(o.status === 200 || timedOut(o), `${o.status} in ${o.ms} ms`).toBe(true);
      await expectNothingLost(client(), d);
      expect(JSON.stringify(failures())).toMatch(/25006/);
    } finally {
      await admin.end();
    }
  });

  it('logs a cause once per interval, then once more with the count of those it held back', async () => {
    skew += 61_000; // a fresh interval: the tests above logged this cause already
    await server.halt('fast');
    try {
      await sleep(300); // the client has seen its connections close: every call is now refused
      const c = client();
      const before = failures().length;
      for (let i = 0; i < 10; i++) expect((await c.status(crypto.randomUUID())).status).toBe(503);
      const first = failures().slice(before);
      expect(first).toHaveLength(1);
      expect(JSON.stringify(first[0]?.fields)).toContain('ECONNREFUSED');
      skew += 61_000; // the provider's clock: past the interval
      expect((await c.status(crypto.randomUUID())).status).toBe(503);
      const next = failures().slice(before + 1);
      expect(next).toHaveLength(1);
      // The nine after the first, held back in the interval that ended.
      expect(next[0]?.fields?.['suppressed']).toBe(9);
    } finally {
      await server.restart();
    }
  });

  it('a store opened while the server is frozen fails with 503 within the timeout, not a hang', async () => {
    server.freeze();
    try {
      const started = performance.now();
      const opening = postgresStore({
        url: server.url,
        tablePrefix: `${uniqueName('g')}_`,
        max: 1,
        connectTimeout: TIMEOUT,
        statementTimeout: TIMEOUT,
      });
      await expect(opening).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
      expect(performance.now() - started).toBeLessThan(TIMEOUT + SLACK);
    } finally {
      server.thaw();
    }
  });

  it('a transaction whose backend dies (SIGKILL) fails, and the client never writes to the dead socket', async () => {
    // postgres 3.4.9 rolls back on the closed connection and crashes the process from a
    // setImmediate (porsager/postgres#1154): vitest would report that uncaught TypeError.
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    const admin = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      const driver = postgresDriver(sql as unknown as PostgresClient, { timeout: 10_000 });
      const running = driver.batch([stmt('SELECT 1'), stmt('SELECT pg_sleep(30)')]);
      const outcome = running.then(
        () => 'committed',
        (error: { code?: string }) => error.code,
      );
      let backend: number | undefined;
      for (let i = 0; i < 100 && backend === undefined; i++) {
        await sleep(20);
        const rows = await admin.unsafe("SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'");
        backend = rows[0]?.['pid'] as number | undefined;
      }
      expect(backend).toBeDefined();
      process.kill(backend as number, 'SIGKILL');
      expect(await outcome).toBe('CONNECTION_CLOSED');
      await sleep(1_500); // where the crash would come
    } finally {
      await sql.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
    // The server recovers from the killed backend by itself; the store serves again.
    const d = client();
    let reply = await d.run({ body: { after: 'kill' } });
    for (let i = 0; i < 50 && reply.status !== 202; i++) {
      await sleep(100);
      reply = await d.run({ body: { after: 'kill' } });
    }
    expect(reply.status).toBe(202);
  });
});
