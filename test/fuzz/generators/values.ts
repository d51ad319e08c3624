/**
 * @module test/fuzz/generators/values: JSON values as raw text, realistic and hostile. Raw
 * text because the hostile ones cannot come from JSON.stringify: lone surrogates as escapes,
 * 1e999, duplicate keys, nesting deeper than any recursive serializer survives.
 */
import fc from 'fast-check';

/** A JSON value as text, named for the finding labels. */
export interface Fragment {
  name: string;
  json: string;
}

export const fragment = (name: string, json: string): Fragment => ({ name, json });

/** `name~1eK` for a size `n` of about 10^K: the failure rate of a size-dependent defect then reads true. */
export const sized = (name: string, n: number) => `${name}~1e${n < 10 ? 0 : Math.floor(Math.log10(n))}`;
const constants = (entries: [string, string][]) => fc.constantFrom(...entries.map(([n, j]) => fragment(n, j)));

/** Sizes that favour the small but reach the large: depth, lengths, list sizes. */
export const size = (small: number, large: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: 0, max: small }) },
    { weight: 6, arbitrary: fc.integer({ min: small, max: Math.max(small, Math.floor(large / 10)) }) },
    { weight: 1, arbitrary: fc.integer({ min: Math.floor(large / 10), max: large }) },
  );

/** Strings a client should never send, and a few it may. */
export const hostileString: fc.Arbitrary<Fragment> = fc.oneof(
  constants([
    ['empty-string', '""'],
    ['nul', '"a\\u0000b"'],
    ['only-nul', '"\\u0000"'],
    ['lone-high-surrogate', '"\\ud800"'],
    ['lone-low-surrogate', '"x\\udfffy"'],
    ['reversed-surrogates', '"\\udc00\\ud800"'],
    ['control-chars', '"\\u0001\\u001b[31m\\u007f"'],
    ['newlines', '"a\\r\\nb\\nc"'],
    ['bom', '"\\ufeffx"'],
    ['bidi-override', '"\\u202eevil"'],
    ['noncharacter', '"\\uffff\\ufffe"'],
    ['emoji', '"😀👩‍👩‍👧"'],
    ['sql', `"'; DROP TABLE gap_actions; --"`],
    ['proto', '"__proto__"'],
    ['percent', '"%00%zz%"'],
    ['html', '"<script>alert(1)</script>"'],
    ['backslashes', '"\\\\..\\\\..\\\\x"'],
  ]),
  size(200, 300_000).map((n) => fragment(sized('long-string', n), JSON.stringify('x'.repeat(n)))),
  size(50, 20_000).map((n) => fragment(sized('long-nul-string', n), JSON.stringify('\u0000'.repeat(n)))),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => fragment('unicode-string', JSON.stringify(s))),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => fragment('grapheme-string', JSON.stringify(s))),
);

/** Numbers at and past the edges of doubles, integers and databases. */
export const hostileNumber: fc.Arbitrary<Fragment> = fc.oneof(
  constants([
    ['zero', '0'],
    ['minus-zero', '-0'],
    ['negative', '-1'],
    ['fraction', '1.5'],
    ['1e21', '1e21'],
    ['max-double', '1.7976931348623157e308'],
    ['overflow-1e999', '1e999'],
    ['underflow', '1e-400'],
    ['unsafe-integer', '9007199254740993'],
    ['bigint-literal', '123456789012345678901234567890123456789'],
    ['int64-overflow', '9223372036854775808'],
    ['exponent-plus', '1E+2'],
  ]),
  size(100, 200_000).map((n) => fragment(sized('huge-digit-run', n), '9'.repeat(Math.max(1, n)))),
  fc.double().map((d) => fragment('double', Number.isFinite(d) ? JSON.stringify(d) : '0')),
);

/** Nesting that breaks recursive code: arrays, objects, and the two mixed. */
export const deepNesting: fc.Arbitrary<Fragment> = fc
  .tuple(fc.constantFrom('array', 'object', 'mixed'), size(100, 100_000))
  .map(([kind, depth]) => {
    const name = sized(`deep-${kind}`, depth);
    if (kind === 'array') return fragment(name, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    if (kind === 'object') return fragment(name, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    return fragment(name, `${'{"a":['.repeat(depth)}${']}'.repeat(depth)}`);
  });

/** Objects with keys that trouble prototypes, databases and JSON paths. */
export const hostileObject: fc.Arbitrary<Fragment> = fc.oneof(
  constants([
    ['empty-object', '{}'],
    ['proto-key', '{"__proto__":{"polluted":true},"a":1}'],
    ['constructor-key', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['nul-key', '{"\\u0000":1}'],
    ['lone-surrogate-key', '{"\\ud800":1}'],
    ['empty-key', '{"":1}'],
    ['duplicate-keys', '{"a":1,"a":2,"a":{"b":3}}'],
    ['json-path-key', '{"$.a[0]":1,"\'":2,"a.b":3}'],
    ['numeric-keys', '{"0":1,"4294967295":2,"-1":3}'],
  ]),
  size(20, 50_000).map((n) =>
    fragment(sized('many-keys', n), `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  ),
);

/** Arrays: empty, wide, of mixed types. */
export const hostileArray: fc.Arbitrary<Fragment> = fc.oneof(
  constants([
    ['empty-array', '[]'],
    ['mixed-array', '[1,"a",null,true,{},[]]'],
    ['array-of-nulls', '[null,null]'],
  ]),
  size(100, 200_000).map((n) => fragment(sized('wide-array', n), `[${Array(Math.max(1, n)).fill('0').join(',')}]`)),
);

/** Any hostile value, of any JSON type. */
export const hostileValue: fc.Arbitrary<Fragment> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: deepNesting },
  { weight: 2, arbitrary: hostileObject },
  { weight: 2, arbitrary: hostileArray },
  {
    weight: 1,
    arbitrary: constants([
      ['null', 'null'],
      ['true', 'true'],
      ['false', 'false'],
    ]),
  },
);

/** Ordinary JSON: what a well-behaved client sends in `body`. */
export const plainValue: fc.Arbitrary<Fragment> = fc
  .jsonValue({ maxDepth: 3 })
  .map((value) => fragment('plain', JSON.stringify(value) ?? 'null'));
