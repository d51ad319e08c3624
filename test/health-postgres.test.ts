/**
 * @module test/health-postgres: a load balancer's view of a provider on PostgreSQL (a server of
 * this file's own): `/readyz` is 200 while the database answers, 503 within the timeout once it
 * is stopped (a crash) or frozen (SIGSTOP: connections open, nothing answers), and 200 again by
 * itself once it is back; liveness stays 200 throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { until } from './support/async.ts';
import { expectReadiness, probe, serveWithHealth } from './support/health.ts';
import { type PostgresServer, startPostgres, uniqueName } from './support/postgres.ts';
import { testProvider } from './support/providers.ts';

/** The readiness timeout: well under the store's own statement timeout, so it is the one that bounds a probe. */
const TIMEOUT = 500;
/** On two busy shared cores, what a probe may take beyond the timeout. */
const SLACK = 2_000;

let server: PostgresServer;
let provider: ActionProvider;
beforeAll(async () => {
  server = await startPostgres();
  const store = await postgresStore({
    url: server.url,
    tablePrefix: `${uniqueName('h')}_`,
    max: 4,
    connectTimeout: 3_000,
    statementTimeout: 3_000,
  });
  provider = testProvider({ store });
});
afterAll(async () => {
  await provider?.close();
  server?.stop();
});

describe('readiness on PostgreSQL', { timeout: 60_000 }, () => {
  it('stopped, then restarted: 200, then 503 within the timeout, then 200 by itself', async () => {
    const origin = await serveWithHealth(provider, { timeout: TIMEOUT });
    const before = expectReadiness(await probe(origin), 'pass');
    expect(before.checks.store).toMatchObject({ status: 'pass', migrations: 'applied' });

    await server.halt('immediate');
    const down = await probe(origin);
    const report = expectReadiness(down, 'fail');
    expect(down.ms).toBeLessThan(TIMEOUT + SLACK);
    expect(report.checks.store.error).toMatch(/ECONNREFUSED|CONNECTION_CLOSED|ECONNRESET|57P0|timed out/);
    // The connection string never appears: only the code and the message.
    expect(JSON.stringify(report)).not.toContain(server.url);
    expect((await probe(origin, '/livez')).status).toBe(200);

    await server.restart();
    const restarted = performance.now();
    const back = await until(async () => {
      const reply = await probe(origin);
      return reply.status === 200 ? reply : undefined;
    }, 15_000);
    expectReadiness(back, 'pass');
    console.info(
      `stopped: /readyz 503 in ${Math.round(down.ms)} ms (${report.checks.store.error}); ` +
        `200 again ${Math.round(performance.now() - restarted)} ms after the restarted server was ready`,
    );
  });

  it('frozen, then thawed: 503 "timed out" within the timeout, then 200 again', async () => {
    const origin = await serveWithHealth(provider, { timeout: TIMEOUT });
    expectReadiness(await probe(origin), 'pass');
    server.freeze();
    try {
      const frozen = await probe(origin);
      const report = expectReadiness(frozen, 'fail');
      expect(report.checks.store).toMatchObject({ status: 'fail', error: 'timed out' });
      expect(frozen.ms).toBeLessThan(TIMEOUT + SLACK);
      console.info(`frozen: /readyz 503 in ${Math.round(frozen.ms)} ms (timeout ${TIMEOUT} ms)`);
    } finally {
      server.thaw();
    }
    const back = await until(async () => {
      const reply = await probe(origin);
      return reply.status === 200 ? reply : undefined;
    }, 15_000);
    expectReadiness(back, 'pass');
  });
});
