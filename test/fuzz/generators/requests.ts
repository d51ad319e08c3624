/**
 * @module test/fuzz/generators/requests: the one arbitrary the harness samples, `fuzzRequest`:
 * runs (a third), operations on seeded actions, enumerate, introspection, every route under
 * every method, near-miss paths, and framing edges (chunked, truncated, what Node's parser
 * itself rejects). Each request carries the features that made it unusual.
 */
import fc from 'fast-check';
import type { Credential, Framing, FuzzRequest } from '../request.ts';
import { type Body, runBody, strayBody } from './bodies.ts';
import { authorization, otherHeaders } from './headers.ts';
import { anyMethod, nearMiss, PARSER_METHODS, query, ROUTES, routePath } from './paths.ts';

interface Parts {
  method: string;
  route: string;
  path: string;
  features: string[];
  body: Body;
  framing?: Framing;
  serverLevel?: true;
}

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 18, arbitrary: fc.constant<Framing>('length') },
  { weight: 2, arbitrary: fc.constant<Framing>('chunked') },
);

/** Add the headers every family shares (Authorization and the rest) and the framing. */
const compose = (parts: fc.Arbitrary<Parts>): fc.Arbitrary<FuzzRequest> =>
  fc.tuple(parts, authorization, otherHeaders, framing).map(([p, auth, other, wire]): FuzzRequest => {
    const credential: Credential = auth.credential;
    const features = [...(auth.feature === undefined ? [] : [auth.feature]), ...other.features, ...p.features];
    const bodyFraming = p.body.bytes === undefined ? 'length' : wire;
    if (bodyFraming === 'chunked') features.push('framing=chunked');
    return {
      method: p.method,
      route: p.route,
      path: p.path,
      headers: [...auth.header, ...other.headers, ...p.body.headers],
      credential,
      body: p.body.bytes,
      framing: p.framing ?? bodyFraming,
      features: [...features, ...p.body.features, ...contentFeatures(p.body.bytes)],
      ...(p.serverLevel ? { serverLevel: true as const } : {}),
    };
  });

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * What the bytes hold, wherever in the body: NUL and lone surrogates (as JSON escapes or raw)
 * reach a store only when no validation stops them first, so the field they sit in explains
 * less than the fact that they are there.
 */
function contentFeatures(bytes: Uint8Array | undefined): string[] {
  if (bytes === undefined || bytes.byteLength === 0) return [];
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const features: string[] = [];
  if (text.includes('\\u0000')) features.push('bytes=nul-escape');
  if (text.includes('\u0000')) features.push('bytes=raw-nul');
  if (/\\ud[89a-f][0-9a-f]{2}/i.test(text)) features.push('bytes=surrogate-escape');
  try {
    decoder.decode(bytes);
  } catch {
    features.push('bytes=invalid-utf8');
  }
  return features;
}

const run = fc
  .tuple(fc.constantFrom('/run', '/actions'), runBody)
  .map(([route, body]): Parts => ({ method: 'POST', route, path: route, features: [], body }));

const OPERATIONS = ROUTES.filter((r) => r.template.includes('{id}'));

const operation = fc
  .constantFrom(...OPERATIONS)
  .chain((route) =>
    fc.tuple(
      fc.constantFrom(...route.methods),
      routePath(route.template),
      route.template.endsWith('/log') ? query : fc.constant({ text: '', features: [] }),
      strayBody,
      fc.constant(route.template),
    ),
  )
  .map(
    ([method, path, q, body, route]): Parts => ({
      method,
      route,
      path: path.path + q.text,
      features: [...path.features, ...q.features],
      body,
    }),
  );

const enumerate = fc
  .tuple(query, strayBody)
  .map(
    ([q, body]): Parts => ({ method: 'GET', route: '/actions', path: `/actions${q.text}`, features: q.features, body }),
  );

const introspect = fc
  .tuple(fc.constantFrom('GET', 'HEAD', 'OPTIONS'), fc.constantFrom('/', '/?x=1'), strayBody)
  .map(([method, path, body]): Parts => ({ method, route: '/', path, features: [], body }));

/** Every route under every method Node knows, with or without a body. */
const matrix = fc
  .tuple(fc.constantFrom(...ROUTES), anyMethod, fc.oneof(strayBody, runBody))
  .chain(([route, method, body]) =>
    routePath(route.template).map(
      (path): Parts => ({
        method,
        route: route.template,
        path: path.path,
        features: [route.methods.includes(method) ? 'method=allowed' : 'method=other', ...path.features],
        body,
      }),
    ),
  );

const nearMisses = fc.tuple(nearMiss, anyMethod, strayBody).map(
  ([path, method, body]): Parts => ({
    method,
    route: `near-miss:${path.template}`,
    path: path.path,
    features: path.features,
    body,
  }),
);

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 34, arbitrary: compose(run) },
  { weight: 24, arbitrary: compose(operation) },
  { weight: 8, arbitrary: compose(enumerate) },
  { weight: 3, arbitrary: compose(introspect) },
  { weight: 14, arbitrary: compose(matrix) },
  { weight: 8, arbitrary: compose(nearMisses) },
  { weight: 4, arbitrary: compose(framingEdges()) },
  { weight: 2, arbitrary: compose(serverLevel()) },
);

/**
 * A run whose body is sent in pieces, cut short by a Content-Length promising more, or longer
 * than its Content-Length says (the rest reaches the server as the start of another request).
 */
function framingEdges(): fc.Arbitrary<Parts> {
  return fc.tuple(run, fc.constantFrom('chunked', 'truncated', 'overlong')).map(([parts, edge]): Parts => {
    const bytes =
      parts.body.bytes === undefined || parts.body.bytes.byteLength < 2
        ? new Uint8Array(Buffer.from('{}{}'))
        : parts.body.bytes;
    const features = [...parts.features, `framing=${edge}`];
    if (edge !== 'overlong') return { ...parts, framing: edge as Framing, features, body: { ...parts.body, bytes } };
    const declared: [string, string] = ['content-length', String(Math.floor(bytes.byteLength / 2))];
    return {
      ...parts,
      framing: 'length',
      features,
      body: { ...parts.body, bytes, headers: [...parts.body.headers, declared] },
    };
  });
}

/** What Node's HTTP parser or server answers before the provider is called. */
function serverLevel(): fc.Arbitrary<Parts> {
  const none: Body = { bytes: undefined, features: [], headers: [] };
  const withHeaders = (headers: [string, string][], bytes?: Uint8Array): Body => ({ bytes, features: [], headers });
  const one = new Uint8Array(Buffer.from('{"request_id":"cl","body":{}}'));
  return fc.oneof(
    fc.constantFrom(...PARSER_METHODS).map(
      (method): Parts => ({
        method,
        route: '/run',
        path: '/run',
        features: [`method=${method}`],
        body: none,
        serverLevel: true,
      }),
    ),
    fc.constantFrom('-1', 'abc', '1e3', '0x10', '99999999999999999999', '5, 6').map(
      (length): Parts => ({
        method: 'POST',
        route: '/run',
        path: '/run',
        features: [`content-length=${length}`],
        body: withHeaders([['content-length', length]], one),
        framing: 'truncated',
        serverLevel: true,
      }),
    ),
    fc.constantFrom('*', 'http://evil.example/run', 'run', '/run?%').map(
      (path): Parts => ({
        method: 'GET',
        route: 'request-target',
        path,
        features: [`target=${path}`],
        body: none,
        serverLevel: true,
      }),
    ),
    fc.constant<Parts>({
      method: 'GET',
      route: '/',
      path: '/',
      features: ['header=over-16KiB'],
      body: withHeaders([['x-big', 'x'.repeat(20_000)]]),
      serverLevel: true,
    }),
    fc.constant<Parts>({
      method: 'POST',
      route: '/run',
      path: '/run',
      features: ['expect=bogus'],
      body: withHeaders([['expect', 'bogus']], one),
      serverLevel: true,
    }),
  );
}
