/**
 * @module test/health-auth: the readiness route for the authenticator's upstream, over real
 * HTTP. Globus Auth (the fake, on a port of its own): credentials accepted pass, a wrong client
 * secret fails (503), Globus stopped or slow only warns (200), and however many probes come,
 * Globus is asked at most once per interval, counted on the fake's side. A JWKS server for
 * `jwtAuth`: fetched at most once per interval, its answer serving verification too; down or
 * hanging, it warns. Local keys and dev auth: pass.
 */
import { describe, expect, it } from 'vitest';
import { devAuth } from '../src/dev/index.ts';
import { globusAuth, jwtAuth } from '../src/index.ts';
import { fakeGlobus } from '../src/testing/index.ts';
import { listen } from '../src/testing/node.ts';
import { until } from './support/async.ts';
import { manualClock, startGlobus } from './support/globus.ts';
import { expectReadiness, probe, serveWithHealth } from './support/health.ts';
import { ISSUER, mint, publicKey, USERS } from './support/identities.ts';
import { startJwks } from './support/jwks.ts';
import { testProvider } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** On two busy shared cores, what an answer may take beyond the timeout. */
const SLACK = 2_000;

describe('readiness: Globus Auth', () => {
  it('credentials accepted: 200, pass, reachable, with when it was checked', async () => {
    const { globus, url } = await startGlobus();
    const clock = manualClock();
    const provider = testProvider({ auth: globusAuth({ ...globus.authOptions(url), clock }) });
    const report = expectReadiness(await probe(await serveWithHealth(provider)), 'pass');
    expect(report.checks.auth).toEqual({
      status: 'pass',
      reachable: true,
      credentials: 'accepted',
      checked_at: new Date(clock()).toISOString(),
    });
    expect(report.checks.auth.checked_at).toMatch(ISO);
  });

  it('asked at most once per interval, however many probes, concurrent ones sharing one call', async () => {
    const { globus, url } = await startGlobus();
    const clock = manualClock();
    const provider = testProvider({ auth: globusAuth({ ...globus.authOptions(url), clock }) });
    const origin = await serveWithHealth(provider);
    const replies = await Promise.all(Array.from({ length: 20 }, () => probe(origin)));
    for (const reply of replies) expectReadiness(reply, 'pass');
    for (let i = 0; i < 5; i++) expectReadiness(await probe(origin), 'pass');
    expect(globus.calls.introspect).toBe(1);

    clock.advance(29_999);
    expectReadiness(await probe(origin), 'pass');
    expect(globus.calls.introspect).toBe(1);
    clock.advance(1);
    const again = expectReadiness(await probe(origin), 'pass');
    expect(globus.calls.introspect).toBe(2);
    expect(again.checks.auth.checked_at).toBe(new Date(clock()).toISOString());
  });

  it('healthInterval sets the interval; a bad one is a TypeError at creation', async () => {
    const { globus, url } = await startGlobus();
    const clock = manualClock();
    const auth = globusAuth({ ...globus.authOptions(url), clock, healthInterval: 5_000 });
    const origin = await serveWithHealth(testProvider({ auth }));
    expectReadiness(await probe(origin), 'pass');
    clock.advance(5_000);
    expectReadiness(await probe(origin), 'pass');
    expect(globus.calls.introspect).toBe(2);
    for (const healthInterval of [0, 999, -1, Number.NaN, '30000']) {
      expect(() => globusAuth({ ...globus.authOptions(url), healthInterval } as never)).toThrow(
        /globusAuth: healthInterval must be a number of ms from 1000/,
      );
    }
  });

  it('a wrong client secret: 503, credentials rejected, the secret nowhere in the answer', async () => {
    const { globus, url } = await startGlobus();
    const secret = 'not-the-secret-9f2c';
    const provider = testProvider({ auth: globusAuth({ ...globus.authOptions(url), clientSecret: secret }) });
    const reply = await probe(await serveWithHealth(provider));
    const report = expectReadiness(reply, 'fail');
    expect(report.checks.auth).toMatchObject({ status: 'fail', reachable: true, credentials: 'rejected' });
    expect(report.checks.auth.error).toMatch(/HTTP 401 invalid_client/);
    expect(report.checks.store.status).toBe('pass');
    expect(JSON.stringify(reply.body)).not.toContain(secret);
    expect(JSON.stringify(reply.body)).not.toContain(btoa(`${globus.client.id}:${secret}`));
  });

  it('Globus stopped: 200 with a warning, unreachable (every instance would fail at once otherwise)', async () => {
    const globus = fakeGlobus();
    const server = await listen(globus.app);
    const clock = manualClock();
    const provider = testProvider({ auth: globusAuth({ ...globus.authOptions(server.url), clock }) });
    const origin = await serveWithHealth(provider);
    expectReadiness(await probe(origin), 'pass');
    await server.close();
    clock.advance(30_000);
    const report = expectReadiness(await probe(origin), 'warn');
    expect(report.checks.auth).toMatchObject({ status: 'warn', reachable: false });
    expect(report.checks.auth.error).toMatch(/ECONNREFUSED/);
    expect(report.checks.auth.credentials).toBeUndefined();
  });

  it('Globus slower than the timeout: 200 with "timed out" within the timeout; its answer is used once it comes', async () => {
    const { globus, url } = await startGlobus();
    globus.fail('introspect', { delay: 1_500, times: 1 });
    const provider = testProvider({ auth: globusAuth({ ...globus.authOptions(url) }) });
    const origin = await serveWithHealth(provider, { timeout: 300 });
    const slow = await probe(origin);
    expect(slow.ms).toBeLessThan(300 + SLACK);
    expect(expectReadiness(slow, 'warn').checks.auth).toEqual({ status: 'warn', error: 'timed out' });
    // The check in flight goes on, and the next probes share it rather than calling again.
    expectReadiness(await probe(origin), 'warn');
    const answered = await until(async () => {
      const reply = await probe(origin);
      return reply.body.status === 'pass' ? reply : undefined;
    }, 10_000);
    expect(expectReadiness(answered, 'pass').checks.auth.credentials).toBe('accepted');
    expect(globus.calls.introspect).toBe(1);
  });
});

describe('readiness: jwtAuth', () => {
  it('a JWKS URL: fetched at most once per interval, and the fetched keys verify tokens without another fetch', async () => {
    const jwks = await startJwks();
    const clock = manualClock();
    const auth = jwtAuth({ jwks: jwks.url, issuer: ISSUER, algorithms: ['ES256'], clock });
    const provider = testProvider({ auth });
    const origin = await serveWithHealth(provider);
    await Promise.all(Array.from({ length: 10 }, () => probe(origin)));
    const report = expectReadiness(await probe(origin), 'pass');
    expect(report.checks.auth).toEqual({
      status: 'pass',
      reachable: true,
      checked_at: new Date(clock()).toISOString(),
    });
    expect(jwks.requests).toBe(1);
    const status = await inProcessClient(provider, { token: await mint(USERS.creator) }).status('no-such-action');
    expect(status.status).toBe(404);
    expect(jwks.requests).toBe(1);
    clock.advance(30_000);
    expectReadiness(await probe(origin), 'pass');
    expect(jwks.requests).toBe(2);
  });

  it('a JWKS that fails: 200 with a warning saying how', async () => {
    const jwks = await startJwks({ status: 500, body: 'oops' });
    const provider = testProvider({ auth: jwtAuth({ jwks: jwks.url }) });
    const report = expectReadiness(await probe(await serveWithHealth(provider)), 'warn');
    expect(report.checks.auth).toMatchObject({ status: 'warn', reachable: false, error: 'the JWKS answered HTTP 500' });
  });

  it('a JWKS that never answers: 200 with "timed out" within the timeout', async () => {
    const jwks = await startJwks('hang');
    const provider = testProvider({ auth: jwtAuth({ jwks: jwks.url, jwksTimeout: 10_000 }) });
    const reply = await probe(await serveWithHealth(provider, { timeout: 300 }));
    expect(reply.ms).toBeLessThan(300 + SLACK);
    expect(expectReadiness(reply, 'warn').checks.auth).toEqual({ status: 'warn', error: 'timed out' });
  });

  it('local keys, and dev auth: pass, with nothing to check', async () => {
    for (const auth of [jwtAuth({ key: publicKey }), (await devAuth()).auth]) {
      const report = expectReadiness(await probe(await serveWithHealth(testProvider({ auth }))), 'pass');
      expect(report.checks.auth).toEqual({ status: 'pass' });
    }
  });
});
