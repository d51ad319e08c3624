/**
 * @module test/fuzz/generators/headers: Authorization (mostly valid tokens of the fuzz users,
 * a realistic share of missing, garbage, expired and foreign ones, and other schemes),
 * Content-Type, Content-Encoding and the rest. Tokens are `{{token:NAME}}` placeholders (see
 * test/fuzz/tokens.ts for the names).
 */
import fc from 'fast-check';
import type { Credential } from '../request.ts';
import { size } from './values.ts';

export interface Authorization {
  header: [string, string][];
  credential: Credential;
  feature: string | undefined;
}

const auth = (credential: Credential, feature: string | undefined, ...values: string[]): Authorization => ({
  header: values.map((v) => ['authorization', v]),
  credential,
  feature,
});

/** The users whose tokens are valid; the creator is the most common caller, as in life. */
export const VALID_USERS = ['creator', 'linked', 'monitor', 'manager', 'member', 'stranger', 'many-identities'];
/** Tokens that must be refused (test/fuzz/tokens.ts mints each). */
export const INVALID_TOKENS = ['expired', 'wrong-issuer', 'wrong-scope', 'other-key', 'alg-none', 'tampered', 'no-sub'];

const validUser = fc.oneof(
  { weight: 5, arbitrary: fc.constant('creator') },
  { weight: 4, arbitrary: fc.constantFrom(...VALID_USERS) },
);

export const authorization: fc.Arbitrary<Authorization> = fc.oneof(
  { weight: 70, arbitrary: validUser.map((u) => auth('valid', undefined, `Bearer {{token:${u}}}`)) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('bearer {{token:U}}', 'BEARER {{token:U}}', 'Bearer   {{token:U}}   '), validUser)
      .map(([form, u]) => auth('valid', 'auth=odd-spelling', form.replace('U', u))),
  },
  { weight: 4, arbitrary: fc.constant(auth('invalid', 'auth=none')) },
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(...INVALID_TOKENS)
      .map((name) => auth('invalid', `auth=${name}`, `Bearer {{token:${name}}}`)),
  },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        'Token {{token:creator}}',
        'Bearer garbage',
        'Bearer a.b.c',
        'Bearer ....',
        'Bearer eyJhbGciOiJub25lIn0',
        'Bearer \u00e9\u00ff\u00fe',
        'Bearer %00',
        'Negotiate YIIB',
        '{{token:creator}}',
      )
      .map((v) => auth('invalid', 'auth=garbage', v)),
  },
  {
    weight: 1,
    arbitrary: size(500, 7000).map((n) => auth('invalid', 'auth=long-garbage', `Bearer ${'x'.repeat(n)}`)),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'Bearer {{token:creator}} extra',
        'Bearer {{token:creator}}, Bearer {{token:stranger}}',
        'Bearer\t{{token:creator}}',
      )
      .map((v) => auth('ambiguous', 'auth=two-parts', v)),
  },
  {
    weight: 1,
    arbitrary: fc.constant(
      auth('ambiguous', 'auth=two-headers', 'Bearer {{token:stranger}}', 'Bearer {{token:creator}}'),
    ),
  },
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'application/json;;;',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  '',
  'garbage',
  'application/json, text/plain',
];

/** One unusual header (or sixty): what a proxy, a browser or an attacker adds. */
const extraHeader: fc.Arbitrary<[string, string][]> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom<[string, string][]>(
      [['accept', 'text/html']],
      [['accept', 'application/xml;q=1, */*;q=0']],
      [['origin', 'https://evil.example']],
      [['x-forwarded-host', 'evil.example']],
      [['x-http-method-override', 'DELETE']],
      [['cookie', 'a=b; __proto__=x']],
      [['expect', '100-continue']],
      [['connection', 'close']],
      [['content-encoding', 'gzip']],
      [['content-encoding', 'deflate']],
      [['content-encoding', 'br']],
      [['content-encoding', 'bogus']],
      [['content-encoding', 'identity']],
      [['host', 'example.com']],
      [['x-fuzz', '\u00e9\u00ff']],
    ),
  },
  {
    // Hosts no URL can be built from: rarer, as each is one defect many times over.
    weight: 2,
    arbitrary: fc.constantFrom<[string, string][]>(
      [['host', 'a b']],
      [['host', '[::1']],
      [['host', 'x:99999']],
      [['host', '%zz']],
      [['host', '\u00e9']],
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<[string, string][]>(
      [['x-fuzz', 'x'.repeat(6000)]],
      Array.from({ length: 60 }, (_, i): [string, string] => [`x-fuzz-${i}`, String(i)]),
    ),
  },
);

/** Headers other than Authorization, most requests with the usual JSON content type. */
export const otherHeaders: fc.Arbitrary<{ headers: [string, string][]; features: string[] }> = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.constant<[string, string][]>([['content-type', 'application/json']]) },
      { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
      { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((t): [string, string][] => [['content-type', t]]) },
    ),
    fc.option(extraHeader, { freq: 4 }),
  )
  .map(([contentType, extra]) => {
    const features: string[] = [];
    const type = contentType[0]?.[1];
    if (type !== undefined && type !== 'application/json') features.push(`content-type=${type}`);
    if (contentType.length === 0) features.push('content-type=none');
    if (extra !== null)
      features.push(`header=${extra[0]?.[0]}${extra.length > 1 ? '*60' : `:${extra[0]?.[1].slice(0, 20)}`}`);
    return { headers: [...contentType, ...(extra ?? [])], features };
  });
