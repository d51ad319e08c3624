/**
 * @module test/globus-failures: what a client sees when Globus Auth or Groups misbehave (the
 * fake's failure injection, over real HTTP): 503 ServiceUnavailable within the timeout, one
 * retry, the lenient `groupsFailure: 'empty'`, and a logged 500 for wrong client credentials,
 * never leaking the token or the secret.
 */
import { describe, expect, it } from 'vitest';
import { createActionProvider, GROUPS_SCOPE, globusAuth } from '../src/index.ts';
import { type ClientReply, fakeGlobus } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { type Harness, harness, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, groupUrn, SCOPE, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { description } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

const users = [{ id: USERS.member, groups: [GROUPS.lab] }, { id: USERS.stranger }];
const LAB = groupUrn(GROUPS.lab);

/** Neither the bearer token nor the client secret appears in the replies or in any log line. */
function expectNoLeak(h: Harness, secrets: string[], replies: ClientReply[]): void {
  const everything = [h.logger.text(), ...replies.map((r) => r.text)];
  for (const secret of [...secrets, h.globus.client.secret]) {
    for (const text of everything) expect(text).not.toContain(secret);
  }
}

/**
 * One successful round trip with another token, so that timings measure the timeout and not a
 * cold start (module loading, the first connections); the call counters start from zero again.
 */
async function warmUp(h: Harness): Promise<void> {
  const reply = await h.client(h.token(USERS.stranger)).introspect();
  expect(reply.status).toBeLessThan(500);
  await h.client(h.token(USERS.stranger)).enumerate();
  h.globus.resetCalls();
}

describe('Globus Auth introspection failures', () => {
  it('slower than the timeout → 503 ServiceUnavailable within about the timeout, then recovers', async () => {
    const h = await harness({ auth: { timeout: 300 } });
    await warmUp(h);
    h.globus.fail('introspect', { delay: 2000 });
    const token = h.token(USERS.creator);
    const started = performance.now();
    const reply = await h.client(token).enumerate();
    const elapsed = performance.now() - started;
    expectError(reply, 503, 'ServiceUnavailable');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 300);
    // The budget covers the retry too: no second attempt once it is spent.
    expect(h.globus.calls.introspect).toBe(1);
    // The failure is not cached: once Globus answers again, so do we.
    h.globus.clearFailures();
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect(h.globus.calls.introspect).toBe(2);
    expectNoLeak(h, [token], [reply]);
  });

  it('slower than the timeout with the fake as injected fetch → 503 within about the timeout', async () => {
    const globus = fakeGlobus();
    const logger = captureLogger();
    const provider = createActionProvider({
      description: description({ title: 't', admin_contact: 'a' }),
      auth: globusAuth({ ...globus.authOptions(), timeout: 300 }),
      logger,
      run: () => ({ status: 'SUCCEEDED', details: {} }),
    });
    const as = (user: string) => inProcessClient(provider, { token: globus.issueToken({ user, scopes: [SCOPE] }) });
    expect((await as(USERS.stranger).enumerate()).status).toBe(200);
    globus.fail('introspect', { delay: 2000 });
    const started = performance.now();
    const reply = await as(USERS.creator).enumerate();
    expectError(reply, 503, 'ServiceUnavailable');
    expect(performance.now() - started).toBeLessThan(300 + 300);
  });

  it('concurrent requests waiting on a slow introspection all get 503, from one call', async () => {
    const h = await harness({ auth: { timeout: 300 } });
    await warmUp(h);
    h.globus.fail('introspect', { delay: 2000 });
    const token = h.token(USERS.creator);
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 20 }, () => h.client(token).enumerate()));
    for (const reply of replies) expectError(reply, 503, 'ServiceUnavailable');
    expect(performance.now() - started).toBeLessThan(300 + 300);
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('a 500 once → the retry succeeds → 200', async () => {
    const h = await harness();
    h.globus.fail('introspect', { status: 500, times: 1 });
    const token = h.token(USERS.creator);
    const reply = await h.client(token).enumerate();
    expect(reply.status, reply.text).toBe(200);
    expect(h.globus.calls.introspect).toBe(2);
  });

  it.each([500, 502, 503, 504])('%i every time → 503 after one retry, not cached', async (status) => {
    const h = await harness();
    h.globus.fail('introspect', { status });
    const token = h.token(USERS.creator);
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expectError(reply, 503, 'ServiceUnavailable');
    expect(h.globus.calls.introspect).toBe(2);
    h.globus.clearFailures();
    expect((await h.client(token).run({ request_id: 'r', body: {} })).status).toBe(202);
    expectNoLeak(h, [token], [reply]);
  });

  it('connection reset every time → 503', async () => {
    const h = await harness();
    h.globus.fail('introspect', { reset: true });
    const token = h.token(USERS.creator);
    const reply = await h.client(token).enumerate();
    expectError(reply, 503, 'ServiceUnavailable');
    expect(h.globus.calls.introspect).toBe(2);
    expectNoLeak(h, [token], [reply]);
  });

  it('connection reset once → the retry succeeds → 200', async () => {
    const h = await harness();
    h.globus.fail('introspect', { reset: true, times: 1 });
    const reply = await h.client(h.token(USERS.creator)).enumerate();
    expect(reply.status, reply.text).toBe(200);
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('connection reset with the fake as injected fetch: every time → 503, once → 200', async () => {
    const globus = fakeGlobus();
    const logger = captureLogger();
    const provider = createActionProvider({
      description: description({ title: 't', admin_contact: 'a' }),
      auth: globusAuth(globus.authOptions()),
      logger,
      run: () => ({ status: 'SUCCEEDED', details: {} }),
    });
    const as = (user: string) => inProcessClient(provider, { token: globus.issueToken({ user, scopes: [SCOPE] }) });
    globus.fail('introspect', { reset: true });
    expectError(await as(USERS.creator).enumerate(), 503, 'ServiceUnavailable');
    expect(globus.calls.introspect).toBe(2);
    globus.fail('introspect', { reset: true, times: 1 });
    expect((await as(USERS.creator).enumerate()).status).toBe(200);
    expect(globus.calls.introspect).toBe(4);
  });

  it.each([
    ['a body that is not JSON', { status: 200, body: 'not json' }],
    ['an empty 200 body', { status: 200, body: '' }],
    ['a JSON array', { status: 200, body: '[]' }],
    ['an object without active', { status: 200, body: '{"scope":"x"}' }],
    ['an active token without sub', { status: 200, body: JSON.stringify({ active: true, scope: SCOPE }) }],
    ['a 404 (wrong Auth URL)', { status: 404, body: '{"error":"not_found"}' }],
    ['an HTML error page', { status: 400, body: '<html>Bad Request</html>' }],
  ])('%s → 503', async (_, failure) => {
    const h = await harness();
    h.globus.fail('introspect', failure);
    const token = h.token(USERS.creator);
    const reply = await h.client(token).enumerate();
    expectError(reply, 503, 'ServiceUnavailable');
    expectNoLeak(h, [token], [reply]);
  });

  it('wrong client secret → logged 500 ActionProviderError naming the client credentials, leaking neither secret nor token', async () => {
    const wrongSecret = 'wrong-secret-0123456789';
    const h = await harness({ auth: { clientSecret: wrongSecret } });
    const token = h.token(USERS.creator);
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'ActionProviderError', description: 'Internal Server Error' });
    const errors = h.logger.json().filter((line) => /client credentials/.test(line));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatch(/GLOBUS_CLIENT_SECRET/);
    expect(errors[0]).toMatch(/"level":"error"/);
    expectNoLeak(h, [token, wrongSecret], [reply]);
    // Not cached as an answer about the token: fixing nothing, it fails again the same way.
    expect((await h.client(token).enumerate()).status).toBe(500);
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('wrong client id → logged 500 too', async () => {
    const h = await harness({ auth: { clientId: 'not-a-registered-client' } });
    const token = h.token(USERS.creator);
    const reply = await h.client(token).enumerate();
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'ActionProviderError', description: 'Internal Server Error' });
    expect(h.logger.json().some((line) => line.includes('client credentials'))).toBe(true);
    expectNoLeak(h, [token], [reply]);
  });
});

describe('Groups failures while a decision needs groups', () => {
  it('Groups 500 → 503 by default; the failure is not cached', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [LAB] } });
    h.globus.fail('groups', { status: 500 });
    const token = h.token(USERS.member);
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expectError(reply, 503, 'ServiceUnavailable');
    expect(h.globus.calls.groups).toBe(2);
    h.globus.clearFailures();
    expect((await h.client(token).run({ request_id: 'r', body: {} })).status).toBe(202);
    expectNoLeak(h, [token], [reply]);
  });

  it('Groups 500 once → the retry succeeds → 202', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [LAB] } });
    h.globus.fail('groups', { status: 500, times: 1 });
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.groups).toBe(2);
  });

  it.each([
    ['Groups too slow', 'groups', { delay: 2000 }],
    ['Groups connection reset', 'groups', { reset: true }],
    ['Groups answering not JSON', 'groups', { status: 200, body: 'not json' }],
    ['Groups 401', 'groups', { status: 401, body: '{"code":"AUTHENTICATION_ERROR"}' }],
    ['the dependent grant failing', 'token', { status: 500 }],
    ['the dependent grant too slow', 'token', { delay: 2000 }],
  ] as const)('%s → 503', async (_, endpoint, failure) => {
    const h = await harness({ fake: { users }, description: { runnable_by: [LAB] }, auth: { timeout: 300 } });
    await warmUp(h);
    h.globus.fail(endpoint, failure);
    const token = h.token(USERS.member);
    const started = performance.now();
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expectError(reply, 503, 'ServiceUnavailable');
    expect(performance.now() - started).toBeLessThan(2 * 300 + 300);
    expectNoLeak(h, [token], [reply]);
  });

  it('a dependent grant holding no Groups token → 503 by default', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [LAB] } });
    const token = h.token(USERS.member, { dependentScopes: [TRANSFER_SCOPE] });
    expectError(await h.client(token).run({ request_id: 'r', body: {} }), 503, 'ServiceUnavailable');
    expect(h.globus.calls.groups).toBe(0);
  });

  it("groupsFailure: 'empty' treats the caller as in no group (runnable_by group → 403)", async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [LAB] }, auth: { groupsFailure: 'empty' } });
    h.globus.fail('groups', { status: 500 });
    const token = h.token(USERS.member);
    expectError(await h.client(token).run({ body: {} }), 403, 'ForbiddenRequest');
    // Not cached as "no groups": once Groups is back, the member may run.
    h.globus.clearFailures();
    expect((await h.client(token).run({ body: {} })).status).toBe(202);
  });

  it("groupsFailure: 'empty' with no Groups token, or on visible_to and monitor_by", async () => {
    const h = await harness({
      fake: { users },
      description: { visible_to: [LAB] },
      auth: { groupsFailure: 'empty' },
    });
    const noGroupsToken = h.token(USERS.member, { dependentScopes: [TRANSFER_SCOPE] });
    expectError(await h.client(noGroupsToken).introspect(), 404, 'ActionNotFound');
    const creator = h.token(USERS.stranger);
    const action = (await h.client(creator).run({ body: {}, monitor_by: [LAB] })).body;
    h.globus.fail('groups', { status: 503 });
    const member = h.token(USERS.member);
    expectError(await h.client(member).status(action.action_id), 404, 'ActionNotFound');
    h.globus.clearFailures();
    expect((await h.client(member).status(action.action_id)).status).toBe(200);
  });

  it('Groups down does not matter when no allow-list holds a group', async () => {
    const h = await harness({ fake: { users } });
    h.globus.fail('groups', { status: 500 });
    h.globus.fail('token', { status: 500 });
    const client = h.client(h.token(USERS.member));
    const action = (await client.run({ body: {} })).body;
    expect((await client.status(action.action_id)).status).toBe(200);
    expect((await client.enumerate()).status).toBe(200);
    expect(h.globus.calls).toEqual({ introspect: 1, token: 0, groups: 0 });
  });
});

describe('dependent grant failures inside a callback', () => {
  it('too slow → the run answers 503 within the timeout and no action is kept', async () => {
    const h = await harness({
      auth: { timeout: 300 },
      provider: {
        run: async ({ caller }) => ({
          status: 'SUCCEEDED',
          details: { n: (await caller.tokenFor(TRANSFER_SCOPE)).length },
        }),
      },
    });
    await warmUp(h);
    h.globus.fail('token', { delay: 2000 });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] });
    const started = performance.now();
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expectError(reply, 503, 'ServiceUnavailable');
    expect(performance.now() - started).toBeLessThan(300 + 300);
    h.globus.clearFailures();
    const retry = await h.client(token).run({ request_id: 'r', body: {} });
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe('SUCCEEDED');
    expectNoLeak(h, [token], [reply, retry]);
  });

  it('wrong client secret at the grant (introspection cached) → logged 500', async () => {
    const h = await harness({
      provider: {
        run: async ({ caller }) => ({
          status: 'SUCCEEDED',
          details: { n: (await caller.tokenFor(GROUPS_SCOPE)).length },
        }),
      },
    });
    const token = h.token(USERS.creator);
    expect((await h.client(token).enumerate()).status).toBe(200);
    h.globus.fail('token', { status: 401, body: '{"error":"invalid_client"}' });
    const reply = await h.client(token).run({ request_id: 'r', body: {} });
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'ActionProviderError', description: 'Internal Server Error' });
    expect(h.logger.json().some((line) => line.includes('client credentials'))).toBe(true);
    expectNoLeak(h, [token], [reply]);
  });
});
