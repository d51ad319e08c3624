/**
 * @module test/globus-flood: what distinct bogus tokens can and cannot make `globusAuth` do:
 * they cannot evict a real caller's cached introspection (inactive answers live apart), cannot
 * have more than `maxConcurrentIntrospections` calls outstanding at Globus (one more is a 503
 * with Retry-After, no call), and once they stop, nothing of theirs lingers. The option checks.
 */
import { describe, expect, it } from 'vitest';
import { globusAuth, type Introspection, memoryCache, type TtlCache } from '../src/index.ts';
import { fakeGlobus } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { waitFor } from './support/async.ts';
import { flood } from './support/flood.ts';
import { harness } from './support/globus.ts';
import { USERS } from './support/identities.ts';

const bogus = (n: number) => Array.from({ length: n }, () => `bogus-${crypto.randomUUID()}`);

/** A cache that records the keys set in it. */
function recordingCache(): TtlCache<Introspection> & { sets: Introspection[] } {
  const inner = memoryCache<Introspection>();
  const sets: Introspection[] = [];
  return {
    sets,
    get: (key) => inner.get(key),
    set(key, value, ttl) {
      sets.push(value);
      return inner.set(key, value, ttl);
    },
    delete: (key) => inner.delete(key),
  };
}

describe('a flood of distinct bogus tokens', () => {
  it("20,000 under the limit: each introspected once, and the real caller's entry survives (no call for it)", async () => {
    // Twice the default cache of 10,000: before inactive answers had their own cache, this evicted the caller.
    const result = await flood({ tokens: 20_000, concurrency: 50, transport: 'injected' });
    expect(result.statuses).toEqual({ 401: 20_000 });
    expect(result.introspections).toBe(20_000);
    expect(result.peak).toBeLessThanOrEqual(50);
    expect(result.realCallerStatus).toBe(200);
    expect(result.realCallerIntrospections).toBe(0);
  }, 60_000);

  it('a burst above the limit over real HTTP: at most the limit outstanding at Globus, the rest 503 with Retry-After and no call', async () => {
    const h = await harness({ fake: { latency: 700 }, auth: { maxConcurrentIntrospections: 20 } });
    const real = h.token(USERS.creator);
    expect((await h.client(real).enumerate()).status).toBe(200);
    h.globus.resetCalls();
    const burst = Promise.all(bogus(300).map((token) => h.raw('GET', '/actions', { token })));
    expect(await waitFor(() => h.globus.outstanding.introspect === 20)).toBe(true);
    // While the 20 are outstanding: the cached caller is served, a new one is told to come back.
    expect((await h.client(real).enumerate()).status).toBe(200);
    const newcomer = h.token(USERS.stranger);
    const refused = await h.client(newcomer).enumerate();
    expectError(refused, 503, 'ServiceUnavailable');
    expect(refused.headers.get('retry-after')).toBe('1');
    const replies = await burst;
    expect(h.globus.peak.introspect).toBe(20);
    // Every bogus token was either introspected (401) or refused without a call (503).
    const saturated = replies.filter((r) => r.status === 503);
    expect(replies.filter((r) => r.status === 401)).toHaveLength(h.globus.calls.introspect);
    expect(saturated.length + h.globus.calls.introspect).toBe(300);
    expect(saturated.length).toBeGreaterThanOrEqual(200);
    for (const reply of saturated) expect(reply.headers.get('retry-after')).toBe('1');
    // Refusals are not kept: once the slots are free, the newcomer is introspected and let in.
    const calls = h.globus.calls.introspect;
    expect((await h.client(newcomer).enumerate()).status).toBe(200);
    expect(h.globus.calls.introspect).toBe(calls + 1);
  });

  it('identical tokens share one slot: 200 requests with one unknown token under a limit of 1 make one call, all 401', async () => {
    const h = await harness({ fake: { latency: 50 }, auth: { maxConcurrentIntrospections: 1 } });
    const replies = await Promise.all(Array.from({ length: 200 }, () => h.client('unknown-token').enumerate()));
    for (const reply of replies) expectError(reply, 401, 'UnauthorizedRequest');
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('a slot is freed when its introspection fails: Globus timing out does not leave the instance saturated', async () => {
    const h = await harness({ auth: { maxConcurrentIntrospections: 2, timeout: 200 } });
    h.globus.fail('introspect', { delay: 1000 });
    const slow = await Promise.all(bogus(2).map((token) => h.client(token).enumerate()));
    for (const reply of slow) expectError(reply, 503, 'ServiceUnavailable');
    h.globus.clearFailures();
    expect((await h.client(h.token(USERS.creator)).enumerate()).status).toBe(200);
  });

  it('inactive answers go to caches.inactive when given; with caches.introspection alone, there as before', async () => {
    const globus = fakeGlobus();
    const active = recordingCache();
    const inactive = recordingCache();
    const apart = globusAuth({ ...globus.authOptions(), caches: { introspection: active, inactive } });
    const request = new Request('http://provider.test/');
    const good = globus.issueToken({ user: USERS.creator, scopes: ['s'] });
    await apart.authenticate({ token: good, request });
    await expect(apart.authenticate({ token: 'bogus', request })).rejects.toMatchObject({
      code: 'UnauthorizedRequest',
    });
    // A kept inactive answer is found in its own cache: no second call.
    await expect(apart.authenticate({ token: 'bogus', request })).rejects.toMatchObject({
      code: 'UnauthorizedRequest',
    });
    expect(globus.calls.introspect).toBe(2);
    expect(active.sets.map((v) => v.active)).toEqual([true]);
    expect(inactive.sets).toEqual([{ active: false }]);

    const together = recordingCache();
    const shared = globusAuth({ ...globus.authOptions(), caches: { introspection: together } });
    await shared.authenticate({ token: good, request });
    await expect(shared.authenticate({ token: 'bogus', request })).rejects.toMatchObject({
      code: 'UnauthorizedRequest',
    });
    expect(together.sets.map((v) => v.active)).toEqual([true, false]);
  });
});

describe('the options of the limits', () => {
  const base = { clientId: 'id', clientSecret: 'secret' };

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null])(
    'maxConcurrentIntrospections: %s → TypeError naming it',
    (value) => {
      expect(() => globusAuth({ ...base, maxConcurrentIntrospections: value as number })).toThrow(
        /globusAuth: maxConcurrentIntrospections must be a positive whole number/,
      );
    },
  );

  it.each([0, -5, 2.5, '100'])('cacheSize: %s → TypeError naming it', (value) => {
    expect(() => globusAuth({ ...base, cacheSize: value as number })).toThrow(
      /globusAuth: cacheSize must be a positive whole number/,
    );
  });

  it.each(['introspection', 'inactive', 'dependentTokens', 'groups'])(
    'caches.%s that is not a TtlCache → TypeError naming it',
    (name) => {
      expect(() => globusAuth({ ...base, caches: { [name]: { get: () => undefined } } })).toThrow(
        new RegExp(`globusAuth: caches\\.${name} must be a TtlCache`),
      );
    },
  );

  it('accepts the documented forms', () => {
    expect(() => globusAuth({ ...base, maxConcurrentIntrospections: 1, cacheSize: 1 })).not.toThrow();
    expect(() => globusAuth({ ...base, caches: { inactive: memoryCache() } })).not.toThrow();
  });
});
