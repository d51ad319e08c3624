/**
 * @module test/adapters-json-text: the Express adapter writes a body a host parser accepted back
 * as JSON.stringify would, at any depth (V8's own stops a few thousand levels down).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonText } from '../adapters/json-text.ts';

/** `value` inside `depth` arrays: deep enough that JSON.stringify throws, so jsonText writes it itself. */
const buried = (value: unknown, depth = 20_000): unknown => {
  let out = value;
  for (let i = 0; i < depth; i++) out = [out];
  return out;
};

describe('jsonText', () => {
  it('is JSON.stringify where that works', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => jsonText(value) === JSON.stringify(value)));
  });

  it('writes what JSON.stringify would below the depth where it throws', () => {
    expect(() => JSON.stringify(buried(1))).toThrow(RangeError);
    const around = (inner: string) => `${'['.repeat(20_000)}${inner}${']'.repeat(20_000)}`;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => jsonText(buried(value)) === around(JSON.stringify(value))),
      { numRuns: 50 },
    );
    // What a host's reviver may leave: toJSON, and values JSON skips in objects and writes as null in arrays.
    const odd = {
      date: new Date(0),
      skipped: undefined,
      list: [undefined, () => 1, Number.NaN],
      k: { toJSON: (key: string) => key },
    };
    expect(jsonText(buried(odd))).toBe(around(JSON.stringify(odd)));
  });

  it('writes objects nested 30,000 deep, and throws on a cycle as JSON.stringify does', () => {
    const root: Record<string, unknown> = {};
    let at = root;
    for (let i = 0; i < 30_000; i++) at = at['a'] = {};
    expect(jsonText(root)).toBe(`${'{"a":'.repeat(30_000)}{}${'}'.repeat(30_000)}`);
    const cyclic: Record<string, unknown> = { deep: buried(1) };
    cyclic['self'] = cyclic;
    expect(() => jsonText(cyclic)).toThrow(TypeError);
  });
});
