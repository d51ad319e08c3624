/**
 * @module test/refinements: HEAD on a status route changes nothing; a group decision blocked by
 * a missing consent says so; dependent tokens about to expire are not cached.
 */
import { describe, expect, it } from 'vitest';
import { type DependentToken, GROUPS_SCOPE, type TtlCache } from '../src/index.ts';
import { expectError, GROUPS, harness, TRANSFER_SCOPE } from './globus-fixtures.ts';
import { caller, mint, rid, testProvider, USERS } from './helpers.ts';

const groupUrn = (id: string) => `urn:globus:groups:id:${id}`;

describe('HEAD on a status route', () => {
  it('answers what GET would, without running the status callback', async () => {
    let calls = 0;
    const provider = testProvider({
      status: () => {
        calls++;
        return { status: 'SUCCEEDED', details: { polled: calls } };
      },
    });
    const call = caller(provider);
    const token = await mint(USERS.creator);
    const run = await call('POST', '/run', { token, body: { request_id: rid(), body: {} } });
    for (const path of [`/${run.json.action_id}/status`, `/actions/${run.json.action_id}`]) {
      const head = await call('HEAD', path, { token });
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
    }
    expect(calls).toBe(0);
    expect((await call('GET', `/${run.json.action_id}/status`, { token })).json.details).toEqual({ polled: 1 });
  });
});

describe('globusAuth refinements', () => {
  it('a group decision blocked by a missing consent answers 503 naming the scope to consent to', async () => {
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [groupUrn(GROUPS.lab)] },
    });
    const token = h.token(USERS.member, {
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const reply = await h.client(token).run({ body: {} });
    expectError(reply, 503, 'ServiceUnavailable');
    expect(reply.body.description).toContain(TRANSFER_SCOPE);
    expect(reply.body.description).toMatch(/consent/);
  });

  it('does not cache dependent tokens that expire within the safety margin', async () => {
    const sets: number[] = [];
    const dependentTokens: TtlCache<DependentToken[]> = {
      get: () => undefined,
      set: (_key, _value, ttl) => void sets.push(ttl),
      delete: () => {},
    };
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [groupUrn(GROUPS.lab)] },
      auth: { caches: { dependentTokens } },
    });
    // Tokens living 48 h are cached for at most 47 h; tokens living 30 s are used and not kept.
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    expect(sets).toHaveLength(1);
    expect(sets[0]).toBeGreaterThan(0);
    expect(sets[0]).toBeLessThanOrEqual(47 * 3600_000);
    expect((await h.client(h.token(USERS.member, { dependentExpiresIn: 30 })).run({ body: {} })).status).toBe(202);
    expect(sets).toHaveLength(1);
  });
});
