/**
 * @module test/fuzz/generators/paths: methods, routes, action ids and queries. Ids are mostly
 * `{{id:N}}` (an action seeded for this batch, so the operations find something), else
 * unknown or hostile: %00, invalid percent-encoding, unicode, `..`, backslashes, very long.
 */
import { METHODS } from 'node:http';
import fc from 'fast-check';
import { size } from './values.ts';

/** One route of the interface, its template, and the methods it answers. */
export interface Route {
  template: string;
  methods: readonly string[];
}

export const ROUTES: readonly Route[] = [
  { template: '/', methods: ['GET', 'HEAD', 'OPTIONS'] },
  { template: '/run', methods: ['POST'] },
  { template: '/actions', methods: ['GET', 'POST'] },
  { template: '/actions/{id}', methods: ['GET', 'DELETE'] },
  { template: '/actions/{id}/cancel', methods: ['POST'] },
  { template: '/actions/{id}/release', methods: ['POST'] },
  { template: '/actions/{id}/resume', methods: ['POST'] },
  { template: '/actions/{id}/log', methods: ['GET'] },
  { template: '/{id}/status', methods: ['GET'] },
  { template: '/{id}/cancel', methods: ['POST'] },
  { template: '/{id}/release', methods: ['POST'] },
  { template: '/{id}/resume', methods: ['POST'] },
  { template: '/{id}/log', methods: ['GET'] },
];

/** Paths no route has, or has only almost. */
const NEAR_MISSES = [
  '/run/',
  '//run',
  '/RUN',
  '/run/x',
  '/actions/',
  '/{id}',
  '/{id}/',
  '/{id}/status/x',
  '/{id}/STATUS',
  '/actions/{id}/status',
  '/actions/{id}/x',
  '/actions/{id}/log/',
  '/x/y/z/w',
  '/./run',
  '/../run',
  '/%2e%2e/run',
  '/run%00',
  '/run;x=1',
  '/run%2F',
  '/%72un',
  '/\\run',
  '/run#frag',
];

/** Methods Node's parser knows (anything else never reaches a provider), CONNECT aside. */
export const KNOWN_METHODS = METHODS.filter((m) => m !== 'CONNECT');
/** Methods Node's parser rejects itself: for the adapters' own answers. */
export const PARSER_METHODS = ['FOO', 'CONNECT', 'BREW'];

export const anyMethod: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE') },
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_METHODS) },
);

/** An action id for a path segment: seeded (mostly), unknown, or hostile. */
export const actionId: fc.Arbitrary<{ id: string; feature: string | undefined }> = fc.oneof(
  { weight: 14, arbitrary: fc.integer({ min: 0, max: 63 }).map((n) => ({ id: `{{id:${n}}}`, feature: undefined })) },
  { weight: 2, arbitrary: fc.uuid().map((id) => ({ id, feature: 'id=unknown-uuid' })) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(
        ['%00', 'nul'],
        ['a%00b', 'nul'],
        ['%ZZ', 'bad-percent'],
        ['%', 'bad-percent'],
        ['%E0%A4%A', 'bad-percent'],
        ['%ED%A0%80', 'utf8-surrogate'],
        ['%C0%AE%C0%AE', 'overlong-utf8'],
        ['%FF%FE', 'invalid-utf8'],
        ['%F0%9F%98%80', 'emoji'],
        ['%E6%97%A5%E6%9C%AC', 'unicode'],
        ['\u00e9\u00ff', 'latin1-bytes'],
        ['..', 'dot-dot'],
        ['.', 'dot'],
        ['%2e%2e', 'dot-dot-encoded'],
        ['%2F', 'encoded-slash'],
        ['a%2Fb', 'encoded-slash'],
        ['\\', 'backslash'],
        ['a\\..\\b', 'backslash'],
        ['%5C', 'encoded-backslash'],
        ['%20', 'space'],
        ['+', 'plus'],
        ['*', 'star'],
        ['%3F', 'encoded-question-mark'],
        [';', 'semicolon'],
        ['actions', 'route-word'],
        ['run', 'route-word'],
        ['__proto__', 'proto'],
        ['constructor', 'proto'],
        ["'%20OR%201=1--", 'sql'],
      )
      .map(([id, feature]) => ({ id, feature: `id=${feature}` })),
  },
  { weight: 1, arbitrary: size(300, 7000).map((n) => ({ id: 'a'.repeat(Math.max(1, n)), feature: 'id=long' })) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary', minLength: 1, maxLength: 20 })
      .map((s) => ({ id: encodeURIComponent(s), feature: 'id=unicode-encoded' })),
  },
);

const queryValue: fc.Arbitrary<[value: string, name: string]> = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['', 'empty'],
    ['%00', 'nul'],
    ['%ZZ', 'bad-percent'],
    ['%', 'bad-percent'],
    ['%ED%A0%80', 'utf8-surrogate'],
    ['\u00e9', 'latin1-byte'],
    ['+', 'plus'],
    ['%2C%2C', 'commas'],
    [',,,', 'commas'],
    ['a'.repeat(5000), 'long'],
  ),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s): [string, string] => [encodeURIComponent(s), 'unicode']),
);

/** Enumerate's `status` and `roles`, log's `limit`, `marker`, `pagination_token`: good, bad and repeated. */
export const query: fc.Arbitrary<{ text: string; features: string[] }> = fc
  .array(
    fc.oneof(
      fc
        .constantFrom(
          'active',
          'ACTIVE',
          'inactive',
          'succeeded,failed',
          'Active , Failed',
          'all',
          'bogus',
          'ACTIVE,bogus',
        )
        .map((v) => ({ text: `status=${encodeURIComponent(v)}`, feature: undefined })),
      fc
        .constantFrom('creator_id', 'monitor_by', 'manage_by', 'creator_id,monitor_by,manage_by', 'MONITOR_BY', 'owner')
        .map((v) => ({ text: `roles=${encodeURIComponent(v)}`, feature: undefined })),
      fc
        .constantFrom('1', '10', '1000', '1001', '0', '-1', '1.5', '1e3', '0x10', ' 5', '9999999999999999999999', 'NaN')
        .map((v) => ({ text: `limit=${encodeURIComponent(v)}`, feature: undefined })),
      fc.constantFrom('marker', 'pagination_token').map((k) => ({ text: `${k}=next`, feature: undefined })),
      fc
        .tuple(fc.constantFrom('status', 'roles', 'limit', 'marker', 'pagination_token', '__proto__', ''), queryValue)
        .map(([k, [v, name]]) => ({ text: `${k}=${v}`, feature: `query-value=${name}` })),
      fc
        .constantFrom('&&&', '=', '==', '?', 'status', 'limit=', '%00=%00')
        .map((t) => ({ text: t, feature: 'query-junk' })),
    ),
    { maxLength: 4 },
  )
  .map((parts) => ({
    text: parts.length === 0 ? '' : `?${parts.map((p) => p.text).join('&')}`,
    features: parts.flatMap((p) => (p.feature === undefined ? [] : [p.feature])),
  }));

/** A route template with its id filled in (a seeded, unknown or hostile one). */
export const routePath = (template: string): fc.Arbitrary<{ path: string; features: string[] }> =>
  template.includes('{id}')
    ? actionId.map(({ id, feature }) => ({
        path: template.replace('{id}', id),
        features: feature === undefined ? [] : [feature],
      }))
    : fc.constant({ path: template, features: [] });

/** A near-miss path (no route has it) with an id filled in. */
export const nearMiss: fc.Arbitrary<{ template: string; path: string; features: string[] }> = fc
  .constantFrom(...NEAR_MISSES)
  .chain((template) =>
    routePath(template).map((p) => ({ template, path: p.path, features: [`near-miss=${template}`, ...p.features] })),
  );
