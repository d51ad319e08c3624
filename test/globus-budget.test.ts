/**
 * @module test/globus-budget: `timeout` is one budget for a whole request's calls to Globus
 * (introspection, dependent grant, Groups, retries, and waiting on another request's identical
 * call), against the fake Globus over real HTTP. Only time waiting on Globus counts: a callback's
 * own work does not, and a budget once spent still lets cached answers through.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS_SCOPE, globusAuth } from '../src/index.ts';
import { expectError } from './support/assertions.ts';
import { type Harness, harness, startGlobus, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, groupUrn, OTHER_SCOPE, SCOPE, USERS } from './support/identities.ts';

const TIMEOUT = 600;
const LAB = groupUrn(GROUPS.lab);
const users = [{ id: USERS.member, groups: [GROUPS.lab] }, { id: USERS.stranger }];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A provider runnable only by LAB members, so that a run needs introspection, the dependent grant and Groups. */
async function groupProvider(): Promise<Harness> {
  const h = await harness({ fake: { users }, description: { runnable_by: [LAB] }, auth: { timeout: TIMEOUT } });
  // One round trip first, so that timings measure the budget and not a cold start.
  expectError(await h.client(h.token(USERS.stranger)).run({ body: {} }), 403, 'ForbiddenRequest');
  h.globus.resetCalls();
  return h;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('one budget for the whole request', () => {
  it('three calls each well within the timeout but together over it → 503 at about the timeout', async () => {
    const h = await groupProvider();
    for (const endpoint of ['introspect', 'token', 'groups'] as const) h.globus.fail(endpoint, { delay: 250 });
    const { value: reply, ms } = await timed(() => h.client(h.token(USERS.member)).run({ body: {} }));
    // Each call alone had the whole timeout before: this answered 202 after 750 ms.
    expectError(reply, 503, 'ServiceUnavailable');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 10);
    expect(ms).toBeLessThan(TIMEOUT + 250);
    expect(h.globus.calls).toEqual({ introspect: 1, token: 1, groups: 1 });
  });

  it('Groups hanging after slow introspection and grant → 503 at the timeout, not a timeout after them', async () => {
    const h = await groupProvider();
    h.globus.fail('introspect', { delay: 200 });
    h.globus.fail('token', { delay: 200 });
    h.globus.fail('groups', { delay: 10_000 });
    const { value: reply, ms } = await timed(() => h.client(h.token(USERS.member)).run({ body: {} }));
    expectError(reply, 503, 'ServiceUnavailable');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 10);
    expect(ms).toBeLessThan(TIMEOUT + 250);
    // The hanging call had no time for a retry.
    expect(h.globus.calls.groups).toBe(1);
  });

  it('the three calls within the budget together → 202, and the next request has a budget of its own', async () => {
    const h = await groupProvider();
    for (const endpoint of ['introspect', 'token', 'groups'] as const) h.globus.fail(endpoint, { delay: 150 });
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
  });
});

describe('tokenFor called late by a callback', () => {
  it("the callback's own work does not count: a tokenFor after longer than the timeout still gets its token", async () => {
    let got: string | undefined;
    const h = await harness({
      auth: { timeout: TIMEOUT },
      provider: {
        run: async ({ caller }) => {
          await sleep(TIMEOUT + 200);
          got = await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED', details: {} };
        },
      },
    });
    const reply = await h.client(h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] })).run({ body: {} });
    expect(reply.status, reply.text).toBe(202);
    expect(got).toEqual(expect.any(String));
  });

  it('it gets only what the request has left: a slow introspection leaves too little for a slow grant → 503', async () => {
    const h = await harness({
      auth: { timeout: TIMEOUT },
      provider: {
        run: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED', details: {} };
        },
      },
    });
    h.globus.fail('introspect', { delay: 450 });
    h.globus.fail('token', { delay: 450 });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] });
    const { value: reply, ms } = await timed(() => h.client(token).run({ body: {} }));
    expectError(reply, 503, 'ServiceUnavailable');
    expect(ms).toBeLessThan(TIMEOUT + 250);
  });
});

describe('a spent budget, through the Caller', () => {
  it('once spent, a cached dependent token is still returned, and what needs Globus is 503 at once, without a call', async () => {
    const { globus, url } = await startGlobus({ users });
    const auth = globusAuth({ ...globus.authOptions(url), timeout: 300 });
    const token = globus.issueToken({
      user: USERS.member,
      scopes: [SCOPE],
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
    });
    const caller = await auth.authenticate({ token, request: new Request('http://provider.test/') });
    expect(await caller.tokenFor(TRANSFER_SCOPE)).toEqual(expect.any(String));
    // A hanging Groups spends the rest of the budget.
    globus.fail('groups', { delay: 5_000 });
    const spent = await timed(() => caller.groups().catch((error: unknown) => error));
    expect(spent.value).toMatchObject({ code: 'ServiceUnavailable' });
    expect(spent.ms).toBeLessThan(300 + 100);
    globus.resetCalls();
    expect(await caller.tokenFor(TRANSFER_SCOPE)).toEqual(expect.any(String));
    const late = await timed(() => caller.tokenFor(OTHER_SCOPE).catch((error: unknown) => error));
    expect(late.value).toMatchObject({ code: 'ServiceUnavailable' });
    expect(late.ms).toBeLessThan(50);
    expect(globus.calls).toEqual({ introspect: 0, token: 0, groups: 0 });
  });

  it('a request joining an identical call started by another request stops waiting at its own deadline', async () => {
    const { globus, url } = await startGlobus({ users });
    const auth = globusAuth({ ...globus.authOptions(url), timeout: TIMEOUT });
    const token = globus.issueToken({ user: USERS.member, scopes: [SCOPE] });
    const request = new Request('http://provider.test/');
    const early = await auth.authenticate({ token, request });
    // The early request spends most of its budget on a slow grant (which is then cached).
    globus.fail('token', { delay: 450, times: 1 });
    await early.tokenFor(TRANSFER_SCOPE).catch(() => {});
    // A later request of the same token starts the Groups call, with a whole budget of its own.
    globus.fail('groups', { delay: 5_000 });
    const late = await auth.authenticate({ token, request });
    const lateGroups = timed(() => late.groups().catch((error: unknown) => error));
    await sleep(20);
    const { value: earlyError, ms } = await timed(() => early.groups().catch((error: unknown) => error));
    expect(earlyError).toMatchObject({ code: 'ServiceUnavailable' });
    expect(ms).toBeLessThan(TIMEOUT - 450 + 100);
    expect(globus.calls.groups).toBe(1);
    const { value: lateError, ms: lateMs } = await lateGroups;
    expect(lateError).toMatchObject({ code: 'ServiceUnavailable' });
    expect(lateMs).toBeGreaterThanOrEqual(TIMEOUT - 10);
  });
});
