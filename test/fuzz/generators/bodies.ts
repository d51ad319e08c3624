/**
 * @module test/fuzz/generators/bodies: request bodies as bytes. Envelopes (see envelope.ts) in
 * UTF-8 mostly, else with a BOM, in UTF-16, with invalid bytes, truncated, gzipped, or past the
 * body limit; and bodies that are no envelope at all: empty, not JSON, not an object, random
 * bytes, a form, a number a million digits long.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { BODY_LIMIT } from '../provider.ts';
import { envelope } from './envelope.ts';
import { size } from './values.ts';

export interface Body {
  bytes: Uint8Array | undefined;
  features: string[];
  /** Headers the body needs (a gzipped body its Content-Encoding). */
  headers: [string, string][];
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const body = (bytes: Uint8Array | undefined, features: string[], headers: [string, string][] = []): Body => ({
  bytes,
  features,
  headers,
});

/** The envelope's bytes with `raw` inside a new string at the start of `body` (or at the start). */
function splice(text: string, raw: number[]): Uint8Array {
  const at = text.indexOf('"body":{');
  if (at < 0) return new Uint8Array(Buffer.concat([Buffer.from(raw), Buffer.from(text)]));
  const cut = at + '"body":{'.length;
  const comma = text[cut] === '}' ? '' : ',';
  const parts = [
    Buffer.from(`${text.slice(0, cut)}"x":"`),
    Buffer.from(raw),
    Buffer.from(`"${comma}${text.slice(cut)}`),
  ];
  return new Uint8Array(Buffer.concat(parts));
}

/** How an envelope's text becomes bytes; UTF-8 nearly always. */
const encoding: fc.Arbitrary<(text: string) => { bytes: Uint8Array; feature?: string; headers?: [string, string][] }> =
  fc.oneof(
    { weight: 40, arbitrary: fc.constant((text: string) => ({ bytes: utf8(text) })) },
    { weight: 1, arbitrary: fc.constant((text: string) => ({ bytes: utf8(`\ufeff${text}`), feature: 'bom' })) },
    {
      weight: 1,
      arbitrary: fc.constant((text: string) => ({
        bytes: new Uint8Array(Buffer.from(text, 'utf16le')),
        feature: 'utf16',
      })),
    },
    {
      weight: 2,
      arbitrary: fc.nat().map((at) => (text: string) => {
        const bytes = utf8(text);
        const copy = new Uint8Array(bytes);
        copy[bytes.length === 0 ? 0 : at % bytes.length] = 0xff;
        return { bytes: copy, feature: 'invalid-utf8-byte' };
      }),
    },
    {
      weight: 1,
      // Surrogates encoded as UTF-8 would be (CESU-8): invalid UTF-8 that a lax decoder passes on.
      arbitrary: fc.constant((text: string) => ({
        bytes: splice(text, [0xed, 0xb0, 0x80, 0xed, 0xa0, 0x80]),
        feature: 'utf8-encoded-surrogates',
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constant((text: string) => ({ bytes: splice(text, [0xe9]), feature: 'latin1-byte' })),
    },
    {
      weight: 1,
      arbitrary: fc.nat().map((at) => (text: string) => ({
        bytes: utf8(text.slice(0, text.length === 0 ? 0 : at % text.length)),
        feature: 'truncated-json',
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(' ', '\n\n', '}', ']', ',', 'x', '\u0000', '{}').map((tail) => (text: string) => ({
        bytes: utf8(text + tail),
        feature: `trailing=${JSON.stringify(tail)}`,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constant((text: string) => ({
        bytes: new Uint8Array(gzipSync(text)),
        // Named as the header is elsewhere, so one defect of compressed bodies is one feature.
        feature: 'header=content-encoding:gzip',
        headers: [['content-encoding', 'gzip']] as [string, string][],
      })),
    },
  );

/** A run's body: an envelope in some encoding. */
const envelopeBody: fc.Arbitrary<Body> = fc.tuple(envelope, encoding).map(([{ text, features }, encode]) => {
  const encoded = encode(text);
  const all = encoded.feature === undefined ? features : [...features, encoded.feature];
  return body(encoded.bytes, all, encoded.headers ?? []);
});

/** Bodies at and past the provider's limit: a valid envelope padded with a long label-less string. */
// Many times the limit too: a server that stops reading there must still get its 413 to the client.
const oversized: fc.Arbitrary<Body> = fc.constantFrom(-64, 0, 1, 4096, BODY_LIMIT, 15 * BODY_LIMIT).map((over) => {
  const shell = '{"request_id":"big","body":{"pad":""}}';
  const pad = 'p'.repeat(Math.max(0, BODY_LIMIT + over - shell.length));
  return body(utf8(`{"request_id":"big","body":{"pad":"${pad}"}}`), [`size=limit${over >= 0 ? '+' : ''}${over}`]);
});

/** Bodies that are no envelope. */
export const junkBody: fc.Arbitrary<Body> = fc.oneof(
  fc
    .constantFrom(
      ['', 'empty'],
      ['   \n\t', 'whitespace'],
      ['null', 'json-null'],
      ['[]', 'json-array'],
      ['[{"request_id":"a","body":{}}]', 'json-array-of-envelope'],
      ['"x"', 'json-string'],
      ['1', 'json-number'],
      ['true', 'json-true'],
      ['1e999', 'json-infinity'],
      ['{', 'invalid-json'],
      ['{"a":}', 'invalid-json'],
      ["{'request_id':'a'}", 'invalid-json'],
      ['{"request_id":"a","body":{},}', 'invalid-json'],
      ['{"request_id":NaN,"body":{}}', 'invalid-json'],
      ['/* c */ {"request_id":"a","body":{}}', 'invalid-json'],
      ['request_id=a&body=%7B%7D', 'form'],
      ['--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', 'multipart'],
      ['\u0000\u0000\u0000', 'nul-bytes'],
    )
    .map(([text, feature]) => body(utf8(text), [`junk=${feature}`])),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => body(bytes, ['junk=random-bytes'])),
  size(1000, 900_000).map((n) =>
    body(utf8(`{"request_id":"n","body":{"n":${'1'.repeat(Math.max(1, n))}}}`), ['junk=long-number']),
  ),
);

/** What a run sends: envelopes mostly, sometimes junk or something past the limit. */
export const runBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 120, arbitrary: envelopeBody },
  { weight: 16, arbitrary: junkBody },
  // Rare: each is a quarter of a megabyte or more on the wire.
  { weight: 1, arbitrary: oversized },
);

/** What a route without a body gets: nothing, mostly; else junk or an envelope. */
export const strayBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(body(undefined, [])) },
  { weight: 1, arbitrary: junkBody.map((b) => ({ ...b, features: ['stray-body', ...b.features] })) },
  { weight: 1, arbitrary: envelopeBody.map((b) => ({ ...b, features: ['stray-body'] })) },
);
