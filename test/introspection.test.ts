/** @module test/introspection: `GET /`, its CORS answers, visibility, and the description document. */
import { toJsonSchema } from '@valibot/to-json-schema';
import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { actionClient } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { GROUP, groupUrn, mint, SCOPE, tokens, USERS, urn } from './support/identities.ts';
import { description, testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { connect, inProcessClient, listen, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

const OPTIONAL_FIELDS = ['subtitle', 'description', 'keywords', 'administered_by'] as const;

describe.each(TRANSPORTS)('introspection ($name)', (transport) => {
  describe('a public provider', () => {
    it.each([
      ['no token', {}],
      ['an invalid token', { authorization: 'Bearer not-a-jwt' }],
      ['a malformed Authorization header', { authorization: 'Basic abc' }],
      ['a valid token', { authorization: `Bearer ${T.stranger}` }],
    ])('answers 200 with %s, with CORS', async (_, headers) => {
      const provider = testProvider();
      // Chosen Authorization headers: raw.
      const { raw } = await connect(transport, provider);
      const reply = await raw('GET', '/', { headers });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body).toEqual(provider.description);
    });

    it('answers HEAD / with 200 and no body', async () => {
      const { raw } = await connect(transport, testProvider());
      const reply = await raw('HEAD', '/');
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('');
    });

    it('answers OPTIONS / with 204 and the CORS headers, without a token', async () => {
      const { raw } = await connect(transport, testProvider());
      const reply = await raw('OPTIONS', '/', {
        headers: { origin: 'https://app.globus.org', 'access-control-request-method': 'GET' },
      });
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect(reply.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      expect(reply.headers.get('access-control-expose-headers')).toBe('*');
    });
  });

  describe('visible_to not public', () => {
    const restricted = () =>
      testProvider({
        description: description({
          title: 'Hidden',
          admin_contact: 'a',
          visible_to: [urn(USERS.monitor), groupUrn(GROUP)],
        }),
      });

    it('no token → 401', async () => {
      const connection = await connect(transport, restricted());
      const reply = await connection.client().introspect();
      expectError(reply, 401, 'UnauthorizedRequest');
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('an invalid token → 401', async () => {
      const connection = await connect(transport, restricted());
      expectError(await connection.client('not-a-jwt').introspect(), 401, 'UnauthorizedRequest');
      const expired = await mint(USERS.monitor, { expiresIn: Math.floor(Date.now() / 1000) - 3600 });
      expectError(await connection.client(expired).introspect(), 401, 'UnauthorizedRequest');
    });

    it('a valid token not in the list → 404 ActionNotFound', async () => {
      const connection = await connect(transport, restricted());
      expectError(await connection.client(T.stranger).introspect(), 404, 'ActionNotFound');
      expectError(await connection.client(T.creator).introspect(), 404, 'ActionNotFound');
    });

    it('a listed identity → 200', async () => {
      const provider = restricted();
      const connection = await connect(transport, provider);
      const reply = await connection.client(T.monitor).introspect();
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(provider.description);
      expect(reply.body.visible_to).toEqual([urn(USERS.monitor), groupUrn(GROUP)]);
    });

    it('a linked identity of the caller that is listed → 200', async () => {
      const connection = await connect(transport, restricted());
      const token = await mint(USERS.stranger, { identitySet: [USERS.stranger, USERS.monitor] });
      expect((await connection.client(token).introspect()).status).toBe(200);
    });

    it('a member of a listed group → 200', async () => {
      const connection = await connect(transport, restricted());
      expect((await connection.client(T.member).introspect()).status).toBe(200);
    });

    it('OPTIONS / still answers the preflight without a token', async () => {
      const { raw } = await connect(transport, restricted());
      expect((await raw('OPTIONS', '/')).status).toBe(204);
    });
  });
});

describe('introspection under a prefix (real HTTP)', () => {
  it('answers GET /prefix, GET /prefix/ and HEAD /prefix with the document', async () => {
    const provider = testProvider();
    const server = await listen(provider, '/prefix');
    try {
      const base = server.url.replace(/\/prefix$/, '');
      // The client asks for /prefix/; the prefix alone, HEAD, OPTIONS and paths outside go raw.
      const raw = rawCaller(base);
      for (const reply of [await raw('GET', '/prefix'), await actionClient(server.url).introspect()]) {
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body).toEqual(provider.description);
        expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      }
      for (const path of ['/prefix', '/prefix/']) expect((await raw('HEAD', path)).status, path).toBe(200);
      expect((await raw('OPTIONS', '/prefix')).status).toBe(204);
      expectError(await raw('GET', '/elsewhere'), 404, 'ActionNotFound');
    } finally {
      await server.close();
    }
  });
});

describe('the provider description document', () => {
  const base = { title: 'Doc provider', globus_auth_scope: SCOPE, admin_contact: 'admin@example.org' };

  it('has every field, optional ones null when unset, and the defaults', async () => {
    const provider = testProvider({ description: base });
    const doc = (await inProcessClient(provider).introspect()).body;
    expect(doc).toEqual({
      types: ['ACTION'],
      api_version: '1.0',
      globus_auth_scope: SCOPE,
      title: 'Doc provider',
      subtitle: null,
      description: null,
      keywords: null,
      visible_to: ['public'],
      runnable_by: ['all_authenticated_users'],
      administered_by: null,
      admin_contact: 'admin@example.org',
      synchronous: false,
      log_supported: false,
      maximum_deadline: 'P30D',
      input_schema: { type: 'object' },
      event_types: null,
    });
    for (const field of OPTIONAL_FIELDS) expect(Object.hasOwn(doc, field), field).toBe(true);
  });

  it('echoes every optional field that is set', async () => {
    const provider = testProvider({
      description: {
        ...base,
        subtitle: 'Sub',
        description: 'Long text',
        keywords: ['a', 'b'],
        visible_to: [urn(USERS.monitor)],
        runnable_by: [groupUrn(GROUP)],
        administered_by: [urn(USERS.manager)],
        synchronous: true,
        maximum_deadline: 'P2D',
      },
    });
    const reply = await inProcessClient(provider, { token: T.monitor }).introspect();
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      subtitle: 'Sub',
      description: 'Long text',
      keywords: ['a', 'b'],
      visible_to: [urn(USERS.monitor)],
      runnable_by: [groupUrn(GROUP)],
      administered_by: [urn(USERS.manager)],
      synchronous: true,
      maximum_deadline: 'P2D',
    });
  });

  it('input_schema is the JSON Schema given', async () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { input_string: { type: 'string', description: 'echoed' } },
      required: ['input_string'],
      additionalProperties: false,
    };
    const fromObject = (await inProcessClient(testProvider({ input: schema })).introspect()).body;
    expect(fromObject.input_schema).toEqual(schema);
    const fromText = (await inProcessClient(testProvider({ input: JSON.stringify(schema) })).introspect()).body;
    expect(fromText.input_schema).toEqual(schema);
  });

  it('input_schema is generated from a valibot schema', async () => {
    const schema = v.object({ input_string: v.string(), count: v.optional(v.number()) });
    const doc = (await inProcessClient(testProvider({ input: schema })).introspect()).body;
    expect(doc.input_schema).toEqual(toJsonSchema(schema));
    expect(doc.input_schema).toMatchObject({
      type: 'object',
      properties: { input_string: { type: 'string' }, count: { type: 'number' } },
      required: ['input_string'],
    });
  });

  it.each([
    ['zod 4', z.object({ input_string: z.string(), count: z.number().optional() })],
    ['ArkType 2', type({ input_string: 'string', 'count?': 'number' })],
  ])('input_schema is the Standard JSON Schema of a %s schema', async (_name, schema) => {
    const doc = (await inProcessClient(testProvider({ input: schema })).introspect()).body;
    expect(doc.input_schema).toEqual(schema['~standard'].jsonSchema.input({ target: 'draft-07' }));
    expect(doc.input_schema).toMatchObject({
      type: 'object',
      properties: { input_string: { type: 'string' }, count: { type: 'number' } },
      required: ['input_string'],
    });
  });

  it('log_supported is true exactly when a log callback exists', async () => {
    expect((await inProcessClient(testProvider()).introspect()).body.log_supported).toBe(false);
    const withLog = testProvider({ log: () => ({ entries: [] }) });
    expect((await inProcessClient(withLog).introspect()).body.log_supported).toBe(true);
  });
});
