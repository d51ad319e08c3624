/**
 * @module test/openapi: `provider.openapi()`. The documents of the echo example (synchronous,
 * and with background work), of providers with a zod or valibot input and neither log nor
 * resume, and of a JSON Schema input with definitions, validated as OpenAPI 3.1 by
 * @seriousme/openapi-schema-validator (the OAI's own 3.1 schema, internal $refs resolved); every
 * path and method of each answered over HTTP on a real port with a status it documents and a
 * body its schema accepts; the paths are exactly the provider's routes; the input schema is
 * the ActionRequest's `body`; the Globus Auth scope and environment; built once, frozen.
 */
import { Validator as SchemaValidator } from '@cfworker/json-schema';
import { Validator } from '@seriousme/openapi-schema-validator';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunningServer } from '../adapters/node.ts';
import { ECHO_SCOPE, echoProvider } from '../examples/echo.ts';
import {
  type ActionProvider,
  globusAuth,
  jwtAuth,
  type OpenApiDocument,
  type ProviderOptions,
  silentLogger,
} from '../src/index.ts';
import { rebaseLocalRefs } from '../src/validation/schema-refs.ts';
import { zodProvider } from './fixtures/openapi-zod.ts';
import { startWorker, type WorkerHost } from './support/hosts.ts';
import { mint, SCOPE, testAuth, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

type Json = Record<string, any>;

/** The document as plain, unfrozen data (the validators annotate what they read). */
const plain = (document: OpenApiDocument): Json => structuredClone(document) as Json;

async function validOpenApi(document: OpenApiDocument): Promise<{ valid: boolean; errors: unknown }> {
  const validator = new Validator();
  const result = await validator.validate(plain(document) as never);
  return { valid: result.valid, errors: result.errors };
}

const METHODS = ['get', 'post', 'delete'] as const;

/** Every (path, method) of a document. */
const operations = (document: OpenApiDocument): [string, string][] =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => method in item).map((method): [string, string] => [path, method]),
  );

/** A JSON Schema validator for the document's schema at `pointer` (its $refs resolved in the document). */
function schemaAt(document: OpenApiDocument, schema: Json): SchemaValidator {
  return new SchemaValidator(
    { components: plain(document)['components'], ...structuredClone(schema) } as never,
    '2020-12',
    false,
  );
}

/** The response object documented for `status`, shared ones ($ref) looked up. */
function documented(document: OpenApiDocument, path: string, method: string, status: number): Json | undefined {
  const response = (document.paths[path] as Json)[method].responses[String(status)] as Json | undefined;
  if (response?.['$ref'] === undefined) return response;
  return (document.components as Json)['responses'][String(response['$ref']).split('/').pop() as string];
}

const echoOptions = { auth: testAuth(), logger: silentLogger, scope: SCOPE };
const zodInput = z.object({ path: z.string().startsWith('/'), count: z.number().int().max(10).optional() });

/** The providers under test: none but the echo has log; only background work resumes. */
const PROVIDERS: { name: string; make: () => ActionProvider; body: Json; log: boolean; resume: boolean }[] = [
  {
    name: 'the echo example',
    make: () => echoProvider(echoOptions),
    body: { input_string: 'hi' },
    log: true,
    resume: false,
  },
  {
    name: 'the echo example with background work',
    make: () => echoProvider({ ...echoOptions, background: true }),
    body: { input_string: 'hi' },
    log: true,
    resume: true,
  },
  {
    name: 'a zod input, without log or resume',
    make: () => testProvider({ input: zodInput } as Partial<ProviderOptions>),
    body: { path: '/a' },
    log: false,
    resume: false,
  },
  {
    name: 'a valibot input, without log or resume, completing at once',
    make: () =>
      testProvider({
        input: v.object({ n: v.pipe(v.number(), v.integer()) }),
        run: () => ({ status: 'SUCCEEDED', details: {} }),
      } as Partial<ProviderOptions>),
    body: { n: 1 },
    log: false,
    resume: false,
  },
  {
    name: 'a zod input, visible only to some',
    make: () =>
      testProvider({
        input: zodInput,
        description: { visible_to: [urn(USERS.creator), urn(USERS.monitor)] } as never,
      } as Partial<ProviderOptions>),
    body: { path: '/a' },
    log: false,
    resume: false,
  },
];

describe('the document is OpenAPI 3.1', () => {
  it.each(PROVIDERS)('$name: valid against the 3.1 schema, every reference resolving', async ({ make }) => {
    const document = make().openapi({ url: 'https://example.org/echo' });
    expect(document.openapi).toBe('3.1.0');
    expect(await validOpenApi(document)).toEqual({ valid: true, errors: undefined });
  });

  it('the validator refuses a document with a fault (so its yes means something)', async () => {
    const broken = plain(echoProvider(echoOptions).openapi());
    delete broken['paths']['/run'].post.responses['202'].description;
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
    const dangling = plain(echoProvider(echoOptions).openapi());
    dangling['paths']['/run'].post.requestBody.content['application/json'].schema = {
      $ref: '#/components/schemas/Missing',
    };
    expect((await new Validator().validate(dangling as never)).valid).toBe(false);
  });

  it('a JSON Schema input with definitions: its $refs rebased into the document, so they resolve', async () => {
    const input = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      definitions: { path: { type: 'string', pattern: '^/' } },
      properties: { source: { $ref: '#/definitions/path' }, tree: { $ref: '#' } },
      required: ['source'],
    };
    const provider = testProvider({ input });
    const document = provider.openapi();
    expect(await validOpenApi(document)).toEqual({ valid: true, errors: undefined });
    const schemas = (document.components as Json)['schemas'];
    expect(schemas.ActionInput.properties.source).toEqual({
      $ref: '#/components/schemas/ActionInput/definitions/path',
    });
    expect(schemas.ActionInput.properties.tree).toEqual({ $ref: '#/components/schemas/ActionInput' });
    // The provider's own schema (and its introspection) is unchanged.
    expect(provider.description.input_schema).toEqual(input);
    const request = schemaAt(document, { $ref: '#/components/schemas/ActionRequest' });
    expect(request.validate({ request_id: 'r', body: { source: '/a' } }).valid).toBe(true);
    expect(request.validate({ request_id: 'r', body: { source: 'a' } }).valid).toBe(false);
    expect(request.validate({ request_id: 'r', body: { source: '/a', tree: { source: '/b' } } }).valid).toBe(true);
    expect(request.validate({ request_id: 'r', body: { source: '/a', tree: { source: 'b' } } }).valid).toBe(false);
  });

  it('rebasing walks schemas only: data ($ref keys in default, enum, const) and resources with an $id are left alone', () => {
    const data = { $ref: '#/definitions/x' };
    const schema = {
      properties: { a: { default: data, enum: [data], const: data }, b: { $ref: '#/definitions/x' } },
      items: [{ $ref: '#' }],
      definitions: { x: { $id: 'urn:x', properties: { y: { $ref: '#/definitions/z' } } } },
    };
    expect(rebaseLocalRefs(schema, '#/at')).toEqual({
      properties: { a: { default: data, enum: [data], const: data }, b: { $ref: '#/at/definitions/x' } },
      items: [{ $ref: '#/at' }],
      definitions: { x: { $id: 'urn:x', properties: { y: { $ref: '#/definitions/z' } } } },
    });
    expect(rebaseLocalRefs({ $id: 'urn:own', $ref: '#/definitions/x' }, '#/at')).toEqual({
      $id: 'urn:own',
      $ref: '#/definitions/x',
    });
    expect(schema.properties.b.$ref).toBe('#/definitions/x');
  });
});

describe('what the document says of the provider', () => {
  it('its paths and methods are exactly its routes, less log and resume when it has none (they answer 501)', async () => {
    for (const { make, log, resume } of PROVIDERS) {
      const provider = make();
      const routes = provider.app.routes
        .filter((route) => route.method !== 'OPTIONS')
        .map((route) => `${route.method.toLowerCase()} ${route.path.replaceAll(':id', '{action_id}')}`)
        .filter((route) => (log || !route.endsWith('/log')) && (resume || !route.endsWith('/resume')));
      const documentedRoutes = operations(provider.openapi()).map(([path, method]) => `${method} ${path}`);
      expect(documentedRoutes.sort()).toEqual([...new Set(routes)].sort());
      expect(documentedRoutes.some((route) => route.endsWith('/log'))).toBe(log);
      expect(documentedRoutes.some((route) => route.endsWith('/resume'))).toBe(resume);
    }
    const provider = testProvider();
    const token = await mint(USERS.creator);
    const ran = await provider.fetch(
      new Request('http://p.test/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ request_id: 'r', body: {} }),
      }),
    );
    const { action_id } = (await ran.json()) as { action_id: string };
    for (const [method, path] of [
      ['GET', `/${action_id}/log`],
      ['POST', `/actions/${action_id}/resume`],
    ] as const) {
      const response = await provider.fetch(
        new Request(`http://p.test${path}`, { method, headers: { authorization: `Bearer ${token}` } }),
      );
      expect(response.status).toBe(501);
    }
  });

  it.each([
    ['the echo example', echoProvider(echoOptions)],
    ['a zod input', testProvider({ input: zodInput } as Partial<ProviderOptions>)],
    ['a valibot input', testProvider({ input: v.object({ n: v.number() }) } as Partial<ProviderOptions>)],
  ])('%s: its input schema is the body of the ActionRequest that /run and POST /actions take', (_name, provider) => {
    const document = plain(provider.openapi());
    for (const path of ['/run', '/actions']) {
      expect(document['paths'][path].post.requestBody).toMatchObject({
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionRequest' } } },
      });
    }
    const { schemas } = document['components'];
    expect(schemas.ActionRequest.properties.body.$ref).toBe('#/components/schemas/ActionInput');
    expect(schemas.ActionRequest.required).toEqual(['request_id', 'body']);
    expect(schemas.ActionInput).toEqual(provider.description.input_schema);
  });

  it("its scope is every authenticated operation's security requirement, and public introspection needs none", () => {
    const document = plain(echoProvider(echoOptions).openapi());
    const requirement = [{ GlobusAuth: [SCOPE] }];
    expect(document['security']).toEqual(requirement);
    for (const [path, method] of operations(echoProvider(echoOptions).openapi())) {
      expect(document['paths'][path][method].security).toEqual(path === '/' ? [] : requirement);
    }
    const hidden = plain(testProvider({ description: { visible_to: [urn(USERS.creator)] } as never }).openapi());
    expect(hidden['paths']['/'].get.security).toEqual(requirement);
    expect(Object.keys(hidden['paths']['/'].get.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '503']),
    );
  });

  it("the security scheme is oauth2 with the authenticator's Globus Auth: production by default, its environment, its authUrl", () => {
    const flows = (options: Parameters<typeof testProvider>[0]) =>
      (plain(testProvider(options).openapi())['components'].securitySchemes.GlobusAuth as Json)['flows'];
    expect(flows({})).toEqual({
      authorizationCode: {
        authorizationUrl: 'https://auth.globus.org/v2/oauth2/authorize',
        tokenUrl: 'https://auth.globus.org/v2/oauth2/token',
        refreshUrl: 'https://auth.globus.org/v2/oauth2/token',
        scopes: { [SCOPE]: expect.any(String) },
      },
      clientCredentials: {
        tokenUrl: 'https://auth.globus.org/v2/oauth2/token',
        scopes: { [SCOPE]: expect.any(String) },
      },
    });
    const sandbox = globusAuth({ clientId: 'c', clientSecret: 's', environment: 'sandbox' });
    expect(flows({ auth: sandbox }).authorizationCode.authorizationUrl).toBe(
      'https://auth.sandbox.globuscs.info/v2/oauth2/authorize',
    );
    const own = globusAuth({ clientId: 'c', clientSecret: 's', authUrl: 'http://127.0.0.1:9999/' });
    expect(flows({ auth: own }).clientCredentials.tokenUrl).toBe('http://127.0.0.1:9999/v2/oauth2/token');
    expect(flows({ auth: jwtAuth({ jwks: { keys: [] } }) }).clientCredentials.tokenUrl).toBe(
      'https://auth.globus.org/v2/oauth2/token',
    );
  });

  it('info comes from the description; servers from url, its trailing slash dropped; a bad url is a TypeError', () => {
    const provider = echoProvider(echoOptions);
    expect(provider.openapi().info).toEqual({
      title: 'Echo',
      summary: 'Answers with what you said',
      description: 'Answers with what you said',
      version: '1.0',
      contact: { email: 'admin@example.org' },
    });
    expect(provider.openapi().servers).toBeUndefined();
    expect(provider.openapi({ url: 'https://example.org/echo/' }).servers).toEqual([
      { url: 'https://example.org/echo' },
    ]);
    expect(provider.openapi({ url: '/echo' }).servers).toEqual([{ url: '/echo' }]);
    expect(provider.openapi({ url: '/' }).servers).toEqual([{ url: '/' }]);
    for (const url of ['ftp://example.org', 'example.org', 'https://example.org/?a=1', 'https://x/#f', '//x', 42]) {
      expect(() => provider.openapi({ url } as never), String(url)).toThrow(TypeError);
    }
    expect(() => provider.openapi('x' as never)).toThrow(TypeError);
  });

  it("is built once and frozen; a url shares the rest; the provider's own description stays its own", () => {
    const input = { type: 'object', properties: { a: { type: 'string' } } };
    const provider = testProvider({ input });
    const document = provider.openapi();
    expect(provider.openapi()).toBe(document);
    expect(Object.isFrozen(document.paths['/run'])).toBe(true);
    expect(() => {
      (document.paths as Json)['/extra'] = {};
    }).toThrow(TypeError);
    const served = provider.openapi({ url: 'https://example.org' });
    expect(served.paths).toBe(document.paths);
    expect(Object.isFrozen(served)).toBe(true);
    expect(Object.isFrozen(provider.description)).toBe(false);
    expect(Object.isFrozen(input)).toBe(false);
    // Two providers, two documents: nothing is shared between instances.
    expect(testProvider({ input }).openapi()).not.toBe(document);
  });
});

describe.each(PROVIDERS)(
  '$name: every documented path answers over HTTP with a status it documents',
  ({ make, body: input, log }) => {
    let provider: ActionProvider;
    let document: OpenApiDocument;
    let server: RunningServer;
    const tokens: Record<'creator' | 'monitor' | 'stranger', string> = { creator: '', monitor: '', stranger: '' };
    const body = (): Json => structuredClone(input);
    let requests = 0;

    beforeAll(async () => {
      provider = make();
      document = provider.openapi();
      server = await listen(provider);
      tokens.creator = await mint(USERS.creator);
      tokens.monitor = await mint(USERS.monitor);
      tokens.stranger = await mint(USERS.stranger);
    });
    afterAll(() => server?.close());

    /** Send a request; its status must be documented for (path, method), and its body match what is documented for it. */
    async function call(
      path: string,
      method: string,
      url: string,
      options: { token?: string; body?: unknown; raw?: string; expected?: number } = {},
    ): Promise<{ status: number; body: Json }> {
      requests++;
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
      const sent = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      if (sent !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(server.url + url, {
        method: method.toUpperCase(),
        headers,
        ...(sent === undefined ? {} : { body: sent }),
      });
      const text = await response.text();
      const where = `${method.toUpperCase()} ${url} answered ${response.status} ${text.slice(0, 200)}`;
      if (options.expected !== undefined) expect(response.status, where).toBe(options.expected);
      const answer = documented(document, path, method, response.status);
      expect(answer, `${where}: not documented for ${method} ${path}`).toBeDefined();
      const schema = answer?.['content']?.['application/json']?.schema as Json | undefined;
      expect(schema, where).toBeDefined();
      expect(response.headers.get('content-type'), where).toBe('application/json');
      const parsed = JSON.parse(text) as Json;
      const result = schemaAt(document, schema as Json).validate(parsed);
      expect(result.valid, `${where}: ${result.errors.map((error) => error.error).join('; ')}`).toBe(true);
      return { status: response.status, body: parsed };
    }

    /** A fresh action of the creator's, which the monitor may monitor. */
    async function action(): Promise<string> {
      const ran = await call('/run', 'post', '/run', {
        token: tokens.creator,
        body: { request_id: crypto.randomUUID(), body: body(), monitor_by: [urn(USERS.monitor)] },
        expected: 202,
      });
      return String(ran.body['action_id']);
    }

    it('each operation: without a token, for an unknown id, for an action, as a monitor and as a stranger', async () => {
      for (const [path, method] of operations(document)) {
        const templated = path.includes('{action_id}');
        const at = (id: string) => path.replace('{action_id}', id);
        const runs = path === '/run' || (path === '/actions' && method === 'post');
        const runBody = () => ({ request_id: crypto.randomUUID(), body: body() });
        await call(path, method, at('unknown-id'), {
          ...(runs ? { body: runBody() } : {}),
          // Public introspection needs no token (its security is empty); everything else, one.
          expected: (document.paths[path] as Json)[method].security.length === 0 ? 200 : 401,
        });
        if (templated) {
          await call(path, method, at(crypto.randomUUID()), { token: tokens.creator, expected: 404 });
          await call(path, method, at(await action()), { token: tokens.creator });
          const monitored = await call(path, method, at(await action()), { token: tokens.monitor });
          expect([200, 403], `${method} ${path} as a monitor`).toContain(monitored.status);
          await call(path, method, at(await action()), { token: tokens.stranger, expected: 404 });
        } else {
          const answered = await call(path, method, path, {
            token: tokens.creator,
            ...(runs ? { body: runBody() } : {}),
          });
          expect(answered.status).toBe(runs ? 202 : 200);
        }
      }
    });

    it('run: a repeat (200), another request under its request_id (409), no JSON (400), a bad envelope or body (422)', async () => {
      const request = { request_id: crypto.randomUUID(), body: body() };
      for (const path of ['/run', '/actions']) {
        const id = { ...request, request_id: `${request.request_id}${path}` };
        await call(path, 'post', path, { token: tokens.creator, body: id, expected: 202 });
        await call(path, 'post', path, { token: tokens.creator, body: id, expected: 200 });
        await call(path, 'post', path, { token: tokens.creator, body: { ...id, label: 'other' }, expected: 409 });
        await call(path, 'post', path, { token: tokens.creator, raw: '{"request_id":', expected: 400 });
        await call(path, 'post', path, { token: tokens.creator, body: { body: body() }, expected: 422 });
        await call(path, 'post', path, {
          token: tokens.creator,
          body: { request_id: crypto.randomUUID(), body: { input_string: 1, path: 2, n: 'x' } },
          expected: 422,
        });
      }
    });

    it('listing with an unknown status, and (with log) a log page out of bounds: 422', async () => {
      await call('/actions', 'get', '/actions?status=bogus', { token: tokens.creator, expected: 422 });
      await call('/actions', 'get', '/actions?roles=monitor_by,nobody', { token: tokens.creator, expected: 422 });
      if (log) {
        const id = await action();
        await call('/{action_id}/log', 'get', `/${id}/log?limit=0`, { token: tokens.creator, expected: 422 });
        const page = await call('/actions/{action_id}/log', 'get', `/actions/${id}/log?limit=5`, {
          token: tokens.creator,
          expected: 200,
        });
        expect(page.body['limit']).toBe(5);
      }
      expect(requests).toBeLessThan(400);
    });
  },
);

describe('a zod input with a small body limit: 413, and releasing an ACTIVE action: 409', () => {
  it('answers what the document says', async () => {
    const provider = testProvider({ input: zodInput, bodyLimit: 4096 } as Partial<ProviderOptions>);
    const document = provider.openapi();
    const server = await listen(provider);
    try {
      const token = await mint(USERS.creator);
      const post = (path: string, payload: unknown) =>
        fetch(server.url + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
      const large = await post('/run', { request_id: 'big', body: { path: `/${'a'.repeat(8192)}` } });
      expect(large.status).toBe(413);
      expect(documented(document, '/run', 'post', 413)).toBeDefined();
      const ran = (await (await post('/run', { request_id: 'active', body: { path: '/a' } })).json()) as Json;
      expect(ran['status']).toBe('ACTIVE');
      for (const path of [`/${ran['action_id']}/release`, `/actions/${ran['action_id']}/release`]) {
        const released = await post(path, {});
        expect(released.status).toBe(409);
      }
      expect(documented(document, '/{action_id}/release', 'post', 409)).toBeDefined();
      expect(documented(document, '/actions/{action_id}/release', 'post', 409)).toBeDefined();
      const deleted = await fetch(`${server.url}/actions/${ran['action_id']}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(deleted.status).toBe(409);
      expect(documented(document, '/actions/{action_id}', 'delete', 409)).toBeDefined();
    } finally {
      await server.close();
    }
  });
});

it('the echo example keeps its scope: the default echo scope when none is given', () => {
  const document = plain(echoProvider({ auth: testAuth(), logger: silentLogger }).openapi());
  expect(document['security']).toEqual([{ GlobusAuth: [ECHO_SCOPE] }]);
});

describe('a provider with a session requirement: the 403 of run is the Globus Auth requirements error it documents', () => {
  it('answers a token without MFA with the GARE, which the 403 schema accepts', async () => {
    const provider = testProvider({ requireSession: { mfa: true } } as Partial<ProviderOptions>);
    const document = provider.openapi();
    const server = await listen(provider);
    try {
      const response = await fetch(`${server.url}/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await mint(USERS.creator)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ request_id: 'r', body: {} }),
      });
      expect(response.status).toBe(403);
      const gare = (await response.json()) as Json;
      expect(gare['authorization_parameters']).toMatchObject({ session_required_mfa: true });
      const answer = documented(document, '/run', 'post', 403) as Json;
      expect(answer['description']).toMatch(/log in again/);
      const validator = schemaAt(document, answer['content']['application/json'].schema);
      expect(validator.validate(gare).valid).toBe(true);
      const strict = schemaAt(document, { $ref: '#/components/schemas/AuthorizationRequirement' });
      expect(strict.validate(gare).valid).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('on workerd: the document, built in a request (no code generation), is the one Node builds', () => {
  let host: WorkerHost;
  beforeAll(async () => {
    host = await startWorker('test/fixtures/openapi-worker.ts', {});
  }, 90_000);
  afterAll(() => host?.stop());

  it('is served, validates, and its server answers the paths it lists', async () => {
    const served = (await (await fetch(`${host.url}/openapi.json`)).json()) as Json;
    expect(served).toEqual(plain(zodProvider().openapi({ url: `${host.url}/p` })));
    expect(await validOpenApi(served as OpenApiDocument)).toEqual({ valid: true, errors: undefined });
    const base = served['servers'][0].url as string;
    expect((await fetch(`${base}/`)).status).toBe(200);
    const run = await fetch(`${base}/run`, { method: 'POST', body: '{}' });
    expect(Object.keys(served['paths']['/run'].post.responses)).toContain(String(run.status));
    expect(run.status).toBe(401);
  });
});
