/** @module test/caller: a Caller never gives its token away when logged or serialised, and loads groups once. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createCaller } from '../src/index.ts';

describe('createCaller', () => {
  it('keeps the token out of JSON, spreads and util.inspect, but readable as caller.token', () => {
    const caller = createCaller({
      identity: 'urn:globus:auth:identity:a',
      identities: ['urn:globus:auth:identity:b'],
      scopes: ['s'],
      token: 'SECRET-TOKEN',
    });
    expect(caller.token).toBe('SECRET-TOKEN');
    for (const text of [
      JSON.stringify(caller),
      JSON.stringify({ ...caller }),
      inspect(caller, { showHidden: true, depth: 9 }),
    ]) {
      expect(text).not.toContain('SECRET-TOKEN');
    }
    expect(caller.identities).toEqual(['urn:globus:auth:identity:a', 'urn:globus:auth:identity:b']);
  });

  it('loads groups once, on demand, and retries after a failure', async () => {
    let calls = 0;
    const caller = createCaller({
      identity: 'urn:globus:auth:identity:a',
      token: 't',
      groups: async () => {
        if (++calls === 1) throw new Error('Groups down');
        return ['urn:globus:groups:id:g'];
      },
    });
    expect(calls).toBe(0);
    await expect(caller.groups()).rejects.toThrow('Groups down');
    expect(await caller.groups()).toEqual(['urn:globus:groups:id:g']);
    expect(await caller.groups()).toEqual(['urn:globus:groups:id:g']);
    expect(calls).toBe(2);
  });

  it('answers tokenFor with NotImplemented when the authenticator has no dependent tokens', async () => {
    await expect(createCaller({ identity: 'urn:x', token: 't' }).tokenFor('scope')).rejects.toMatchObject({
      code: 'NotImplemented',
    });
  });
});
