/** @module test/jwt-options: `jwtAuth` checks its options up front, with a TypeError naming the bad one. */
import { describe, expect, it } from 'vitest';
import { type JwtAuthOptions, jwtAuth, memoryCache } from '../src/index.ts';
import { publicKey } from './support/identities.ts';

describe('the options, checked by name', () => {
  it.each([
    ['cacheTtl', [Number.POSITIVE_INFINITY, Number.NaN, -1, '5', 3_600_001]],
    ['jwksTimeout', [0, -1, '5', Number.POSITIVE_INFINITY]],
    ['clockTolerance', [-1, '30', Number.NaN, 86_401]],
    ['requireExp', ['no', 0]],
    ['issuer', [5, [1]]],
    ['audience', [{}, ['a', 2]]],
    ['algorithms', ['ES256', [1]]],
    ['claims', [{ identity: 5 }, 'sub']],
    ['cache', [{}, { get: () => undefined }]],
    ['rejectedCache', [{ get: () => undefined, set: () => {} }]],
    ['fetch', ['fetch']],
    ['clock', [5]],
  ] as const)('%s', (name, values) => {
    for (const value of values) {
      expect(() => jwtAuth({ key: publicKey, [name]: value } as JwtAuthOptions), String(value)).toThrow(
        new RegExp(`^jwtAuth: ${name} `),
      );
    }
  });

  it('accepts the bounds and the defaults', () => {
    expect(() =>
      jwtAuth({ key: publicKey, cacheTtl: 0, jwksTimeout: 1, clockTolerance: 0, requireExp: false }),
    ).not.toThrow();
    expect(() => jwtAuth({ key: publicKey, cacheTtl: 3_600_000, rejectedCache: memoryCache() })).not.toThrow();
  });
});
