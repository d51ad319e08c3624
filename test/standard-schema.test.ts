/**
 * @module test/standard-schema: `input` from any Standard Schema library (zod 4, ArkType 2, a
 * hand-written one): introspection from Standard JSON Schema, runs validated through
 * `~standard.validate` (sync or async), and what is refused at creation.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { type } from 'arktype';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createActionProvider, type InputOption, type ProviderOptions, silentLogger } from '../src/index.ts';
import { actionClient } from '../src/testing/index.ts';
import { rid } from './support/actions.ts';
import { expectAction, expectError, fieldLines } from './support/assertions.ts';
import { startWorker, type WorkerHost } from './support/hosts.ts';
import { exampleEnv, mint, testAuth, tokens, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { description, testProvider } from './support/providers.ts';
import { toReply } from './support/raw.ts';
import { connectRun, ROUTES } from './support/routes.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

/** A value that must never come back in an error while scrubbing is on. */
const SECRET = 'SECRET-user-data-4f1c';
const SECRET_NUMBER = 987_654_321;
const SCRUBBED = 'Input failed schema validation';

const zodSchema = z.object({
  input_string: z.string().regex(/^[a-z]+$/),
  count: z.number().int().max(10).optional(),
  items: z.array(z.object({ name: z.string() })).optional(),
});

const arkSchema = type({
  input_string: /^[a-z]+$/,
  'count?': 'number.integer <= 10',
  'items?': type({ name: 'string' }).array(),
});

/** The same schema in both libraries, and the category each gives a failed pattern and maximum. */
const LIBRARIES = [
  { name: 'zod', schema: zodSchema, pattern: 'invalid_format', maximum: 'too_big' },
  { name: 'ArkType', schema: arkSchema, pattern: 'pattern', maximum: 'max' },
] as const;

/** What the library itself says `input_schema` is. */
const converted = (schema: StandardJSONSchemaV1) => schema['~standard'].jsonSchema.input({ target: 'draft-07' });

/** Typed providers (createActionProvider itself, so that `run` sees the inferred body). */
const base = { description: description(), auth: testAuth(), logger: silentLogger } as const;

describe.each(TRANSPORTS)('Standard Schema input ($name)', (transport) => {
  describe.each(LIBRARIES)('a $name schema', ({ schema, pattern, maximum }) => {
    async function post(body: Record<string, unknown>, scrub?: boolean) {
      let calls = 0;
      const { run } = await connectRun(
        transport,
        '/run',
        testProvider({
          input: schema,
          ...(scrub === undefined ? {} : { scrubValidationErrors: scrub }),
          run: ({ request }) => {
            calls++;
            return { status: 'ACTIVE', details: { got: request.body } };
          },
        }),
      );
      return { reply: await run(t.creator, { request_id: rid(), body }), calls: () => calls };
    }

    it("introspection shows the library's own JSON Schema of the input", async () => {
      const { client } = await connect(transport, testProvider({ input: schema }));
      const doc = (await client().introspect()).body;
      expect(doc.input_schema).toEqual(converted(schema));
      expect(doc.input_schema).toMatchObject({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: { input_string: { type: 'string', pattern: '^[a-z]+$' }, count: { type: 'integer', maximum: 10 } },
        required: ['input_string'],
      });
    });

    it.each(ROUTES)('a valid body on POST %s: 202, and run gets the typed body', async (route) => {
      const { run } = await connectRun(
        transport,
        route,
        createActionProvider({
          ...base,
          input: schema,
          // Compiles only while `body` is typed from the schema.
          run: ({ request }) => ({
            status: 'ACTIVE',
            details: { shout: request.body.input_string.toUpperCase(), count: request.body.count ?? null },
          }),
        }),
      );
      const reply = await run(t.creator, { request_id: rid(), body: { input_string: 'abc', count: 3 } });
      expectAction(reply, 202);
      expect(reply.body.details).toEqual({ shout: 'ABC', count: 3 });
    });

    it('an invalid body: 422, a line per issue with its path and category, no user data, run not called', async () => {
      const { reply, calls } = await post({
        input_string: SECRET,
        count: SECRET_NUMBER,
        items: [{ name: 'a' }, { name: 2 }, {}],
      });
      expectError(reply, 422, 'RequestValidationError');
      expect(fieldLines(reply)).toEqual([
        `Field '$.input_string' (category: '${pattern}'): ${SCRUBBED}`,
        `Field '$.count' (category: '${maximum}'): ${SCRUBBED}`,
        `Field '$.items[1].name' (category: 'type'): ${SCRUBBED}`,
        "Field '$.items[2].name' (category: 'required'): field required",
      ]);
      expect(reply.text).not.toContain(SECRET);
      expect(reply.text).not.toContain(String(SECRET_NUMBER));
      expect(calls()).toBe(0);
    });

    it('a wrong type and a missing field, as valibot and JSON Schema name them', async () => {
      expect(fieldLines((await post({ input_string: [SECRET] })).reply)).toEqual([
        `Field '$.input_string' (category: 'type'): ${SCRUBBED}`,
      ]);
      expect(fieldLines((await post({})).reply)).toEqual([
        "Field '$.input_string' (category: 'required'): field required",
      ]);
    });

    it("shows the library's message when scrubbing is off", async () => {
      const { reply } = await post({ input_string: 'ok', count: SECRET_NUMBER }, false);
      const issues = await schema['~standard'].validate({ input_string: 'ok', count: SECRET_NUMBER });
      const message = issues.issues?.[0]?.message;
      expect(message).toBeTypeOf('string');
      expectError(reply, 422, 'RequestValidationError', `Field '$.count' (category: '${maximum}'): ${message}`);
    });
  });

  describe('a schema that validates asynchronously', () => {
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    const zodAsync = z.object({
      code: z.string().refine(async (code) => {
        await tick();
        return code === 'open-sesame';
      }, 'wrong code'),
    });
    const valibotAsync = v.objectAsync({
      code: v.pipeAsync(
        v.string(),
        v.checkAsync(async (code) => {
          await tick();
          return code === 'open-sesame';
        }, 'wrong code'),
      ),
    });

    it.each([
      ['zod', zodAsync, `Field '$.code' (category: 'value'): ${SCRUBBED}`],
      ['valibot', valibotAsync, "Field '$.code' (category: 'value'): wrong code"],
    ] as const)('a %s schema: 202 when it resolves valid, 422 when not', async (_name, input, line) => {
      let calls = 0;
      const { run } = await connectRun(
        transport,
        '/run',
        testProvider({
          input,
          run: ({ request }) => {
            calls++;
            return { status: 'ACTIVE', details: { got: request.body } };
          },
        }),
      );
      const valid = await run(t.creator, { request_id: rid(), body: { code: 'open-sesame' } });
      expectAction(valid, 202);
      expect(valid.body.details).toEqual({ got: { code: 'open-sesame' } });
      const invalid = await run(t.creator, { request_id: rid(), body: { code: SECRET } });
      expectError(invalid, 422, 'RequestValidationError');
      expect(invalid.body.description).toBe(line);
      expect(invalid.text).not.toContain(SECRET);
      expect(calls).toBe(1);
    });
  });
});

/** A Standard Schema written by hand: async, paths as `{ key }` segments, a JSON Schema converter. */
function handWritten(converter: StandardJSONSchemaV1.Converter | undefined): StandardSchemaV1<{ tags: string[] }> {
  const props = {
    version: 1 as const,
    vendor: 'hand-written',
    validate: async (value: unknown) => {
      const tags = (value as { tags?: unknown }).tags;
      if (!Array.isArray(tags)) return { issues: [{ message: 'tags: expected a list', path: [{ key: 'tags' }] }] };
      const bad = tags.findIndex((tag) => typeof tag !== 'string');
      if (bad >= 0) return { issues: [{ message: 'not a string', path: [{ key: 'tags' }, { key: bad }] }] };
      return { value: { tags: tags as string[] } };
    },
    ...(converter === undefined ? {} : { jsonSchema: converter }),
  };
  return { '~standard': props };
}

const TAGS_SCHEMA = { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } };

describe('any Standard Schema library', () => {
  it('validates with one written by hand: async, `{ key }` path segments, the category defaulting to value', async () => {
    const { run } = await connectRun(
      TRANSPORTS[0] as (typeof TRANSPORTS)[number],
      '/run',
      testProvider({ input: handWritten({ input: () => TAGS_SCHEMA, output: () => TAGS_SCHEMA }) }),
    );
    expectAction(await run(t.creator, { request_id: rid(), body: { tags: ['a'] } }), 202);
    const bad = await run(t.creator, { request_id: rid(), body: { tags: ['a', 7] } });
    expectError(bad, 422, 'RequestValidationError', `Field '$.tags[1]' (category: 'value'): ${SCRUBBED}`);
    const missing = await run(t.creator, { request_id: rid(), body: {} });
    expectError(missing, 422, 'RequestValidationError', "Field '$.tags' (category: 'required'): field required");
  });

  it.each([
    ['zod', z.object({ code: z.string().refine((code) => code === 'ok') })],
    ['ArkType', type({ code: type('string').narrow((code) => code === 'ok') })],
    [
      'valibot',
      v.object({
        code: v.pipe(
          v.string(),
          v.check((code) => code === 'ok'),
        ),
      }),
    ],
  ] as const)('names a failed %s refinement `value`, as the valibot path does', async (_name, input) => {
    const { run } = await connectRun(TRANSPORTS[0] as (typeof TRANSPORTS)[number], '/run', testProvider({ input }));
    const reply = await run(t.creator, { request_id: rid(), body: { code: SECRET } });
    expectError(reply, 422, 'RequestValidationError', /^Field '\$\.code' \(category: 'value'\): /);
    expect(reply.text).not.toContain(SECRET);
  });

  it('reads `~standard` once, at creation (ArkType builds it anew on every read)', async () => {
    const inner = handWritten({ input: () => TAGS_SCHEMA, output: () => TAGS_SCHEMA });
    let reads = 0;
    const counted = {
      get '~standard'() {
        reads++;
        return inner['~standard'];
      },
    };
    const provider = testProvider({ input: counted });
    const after = reads;
    const { run } = await connectRun(TRANSPORTS[0] as (typeof TRANSPORTS)[number], '/run', provider);
    for (let i = 0; i < 3; i++) expectAction(await run(t.creator, { request_id: rid(), body: { tags: [] } }), 202);
    expect(reads).toBe(after);
  });

  it('a rejected validation is a 500, not a 422, and run is not called', async () => {
    let calls = 0;
    const failing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'failing',
        validate: () => Promise.reject(new Error('validator down')),
        ...{ jsonSchema: { input: () => ({ type: 'object' }), output: () => ({ type: 'object' }) } },
      },
    };
    const { run } = await connectRun(
      TRANSPORTS[0] as (typeof TRANSPORTS)[number],
      '/run',
      testProvider({
        input: failing,
        run: () => {
          calls++;
          return { status: 'ACTIVE' };
        },
      }),
    );
    const reply = await run(t.creator, { request_id: rid(), body: {} });
    expect(reply.status).toBe(500);
    expect(reply.text).not.toContain('validator down');
    expect(calls).toBe(0);
  });
});

/** A Standard Schema answering with `validate` (and a converter, so that creation succeeds). */
const validating = (validate: (value: unknown) => unknown): StandardSchemaV1 => ({
  '~standard': {
    version: 1,
    vendor: 'broken',
    validate: validate as StandardSchemaV1.Props['validate'],
    ...{ jsonSchema: { input: () => ({ type: 'object' }), output: () => ({ type: 'object' }) } },
  },
});

const IN_PROCESS = TRANSPORTS[0] as (typeof TRANSPORTS)[number];

describe('a Standard Schema that misbehaves', () => {
  /** A provider over `input` whose run counts its calls. */
  async function counted(input: InputOption, options: Partial<ProviderOptions> = {}) {
    let calls = 0;
    const provider = testProvider({
      input,
      ...options,
      run: () => {
        calls++;
        return { status: 'ACTIVE' };
      },
    });
    const { run } = await connectRun(IN_PROCESS, '/run', provider);
    return { provider, run, calls: () => calls };
  }

  const never = () => new Promise<boolean>(() => {});

  it.each([
    ['zod', z.object({ code: z.string().refine(never) })],
    ['valibot', v.objectAsync({ code: v.pipeAsync(v.string(), v.checkAsync(never)) })],
    ['hand-written', validating(never)],
  ] as const)(
    'a %s validation that never settles is the 503 after runTimeout, and run is not called',
    async (_name, input) => {
      const { run, calls } = await counted(input, { runTimeout: 300 });
      const started = Date.now();
      const reply = await run(t.creator, { request_id: rid(), body: { code: SECRET } });
      expectError(
        reply,
        503,
        'ServiceUnavailable',
        'The input schema did not finish validating the body within 300 ms',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(reply.text).not.toContain(SECRET);
      expect(calls()).toBe(0);
    },
  );

  it("stops waiting for a pending validation when the request's signal aborts (Lambda's deadline)", async () => {
    const { provider, calls } = await counted(validating(never));
    const controller = new AbortController();
    const answer = provider.fetch(
      new Request('http://provider.test/run', {
        method: 'POST',
        signal: controller.signal,
        headers: { authorization: `Bearer ${t.creator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ request_id: rid(), body: {} }),
      }),
    );
    setTimeout(() => controller.abort(), 50);
    const reply = await toReply(await answer);
    expectError(
      reply,
      503,
      'ServiceUnavailable',
      'The input schema did not finish validating the body before the request was aborted',
    );
    expect(calls()).toBe(0);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['null', null],
    ['a number', 5],
    ['a string', 'ok'],
    ['an object with neither value nor issues', {}],
    ['issues that are no list', { issues: 'wrong' }],
    ['null issues', { issues: null }],
  ])(
    'a validate answering %s (or a promise of it) is the logged 500 naming the schema, never a 202',
    async (_name, result) => {
      for (const validate of [() => result, async () => result]) {
        const logger = captureLogger();
        const { run, calls } = await counted(validating(validate), { logger });
        const reply = await run(t.creator, { request_id: rid(), body: { code: SECRET } });
        expectError(reply, 500, 'ActionProviderError', 'Internal Server Error');
        expect(calls()).toBe(0);
        expect(logger.text()).toMatch(/input: the broken schema's validate returned .*, not a Standard Schema result/);
        expect(logger.text()).not.toContain(SECRET);
      }
    },
  );

  it('answers the 422 for issues that are no objects or whose paths are no lists, and cuts a huge path', async () => {
    const { run, calls } = await counted(
      validating(() => ({
        issues: [null, 5, { message: 5, path: 5 }, { message: 'long', path: ['k'.repeat(1_000_000)] }],
      })),
    );
    const reply = await run(t.creator, { request_id: rid(), body: {} });
    expectError(reply, 422, 'RequestValidationError');
    expect(fieldLines(reply)).toEqual([
      `Field '$' (category: 'value'): ${SCRUBBED}`,
      expect.stringMatching(/^Field '\$\.k{197}…' \(category: 'required'\): field required$/),
    ]);
    expect(calls()).toBe(0);
  });

  it.each([
    ['zod', z.object({ xs: z.array(z.string()) })],
    ['ArkType', type({ xs: 'string[]' })],
    [
      'hand-written',
      validating(() => ({ issues: Array.from({ length: 100_000 }, (_, i) => ({ message: 'no', path: ['xs', i] })) })),
    ],
  ] as const)(
    'a %s schema failing on 100,000 items answers with its first 100 lines and how many more',
    async (_name, input) => {
      const { run } = await counted(input);
      const reply = await run(t.creator, { request_id: rid(), body: { xs: Array(100_000).fill(1) } });
      expectError(reply, 422, 'RequestValidationError');
      const lines = fieldLines(reply);
      expect(lines).toHaveLength(101);
      expect(lines[0]).toMatch(/^Field '\$\.xs\[0\]' \(category: '\w+'\): /);
      expect(lines[99]).toMatch(/^Field '\$\.xs\[99\]' /);
      expect(lines[100]).toBe('and 99900 more issues');
    },
  );
});

describe('a Standard Schema input at creation', () => {
  const create = (input: unknown, inputSchema?: object | string) => () =>
    createActionProvider({
      ...base,
      input,
      ...(inputSchema === undefined ? {} : { inputSchema }),
      run: () => ({ status: 'ACTIVE' }),
    } as ProviderOptions);

  it('refuses one without a Standard JSON Schema converter, saying to pass inputSchema', () => {
    expect(create(handWritten(undefined))).toThrow(TypeError);
    expect(create(handWritten(undefined))).toThrow(
      /^input: this hand-written schema has no Standard JSON Schema converter .*pass its JSON Schema as the inputSchema option/,
    );
  });

  it('takes inputSchema for one without a converter: introspection shows it, validation stays the schema', async () => {
    const provider = createActionProvider({
      ...base,
      input: handWritten(undefined),
      inputSchema: JSON.stringify(TAGS_SCHEMA),
      run: ({ request }) => ({ status: 'ACTIVE', details: { first: request.body.tags[0] ?? null } }),
    });
    expect(provider.description.input_schema).toEqual(TAGS_SCHEMA);
    const { run } = await connectRun(TRANSPORTS[0] as (typeof TRANSPORTS)[number], '/run', provider);
    expect((await run(t.creator, { request_id: rid(), body: { tags: ['x'] } })).body.details).toEqual({ first: 'x' });
    expectError(await run(t.creator, { request_id: rid(), body: { tags: [1] } }), 422, 'RequestValidationError');
  });

  it('refuses a schema whose conversion throws, naming why, and takes inputSchema instead', () => {
    const dated = z.object({ when: z.date() });
    expect(create(dated)).toThrow(TypeError);
    expect(create(dated)).toThrow(
      'input: the zod schema cannot be converted to JSON Schema (Date cannot be represented in JSON Schema); pass its JSON Schema as the inputSchema option',
    );
    const shown = { type: 'object', properties: { when: { type: 'string', format: 'date-time' } } };
    expect(create(dated, shown)().description.input_schema).toEqual(shown);
  });

  it('inputSchema replaces the generated schema of zod, ArkType and valibot alike', () => {
    for (const input of [zodSchema, arkSchema, v.object({ a: v.string() })] as InputOption[]) {
      expect(create(input, TAGS_SCHEMA)().description.input_schema).toEqual(TAGS_SCHEMA);
    }
  });

  it('checks inputSchema as it checks a JSON Schema input, and refuses it beside a JSON Schema or no input', () => {
    expect(create(zodSchema, { type: 'objekt' })).toThrow(/^inputSchema: not a valid JSON Schema at \/type: /);
    expect(create(zodSchema, new (class JsonSchema {})())).toThrow(/^inputSchema: .*not a JsonSchema$/);
    expect(create({ type: 'object' }, TAGS_SCHEMA)).toThrow(/^inputSchema: a JSON Schema input is shown as it is/);
    expect(create(undefined, TAGS_SCHEMA)).toThrow(/^inputSchema: pass a JSON Schema as input/);
  });

  it.each([
    // zod 3 before 3.24 (no `~standard`): a class instance.
    ['a schema object without ~standard', new (class ZodObject {})(), /not a ZodObject$/],
    ['a function without ~standard', () => true, /^input: expected a valibot, zod 4, ArkType/],
    [
      'a ~standard of another version',
      { '~standard': { version: 2, validate: () => ({ value: 1 }) } },
      'input: expected a Standard Schema of version 1 with ~standard.validate()',
    ],
    [
      'a Standard JSON Schema that does not validate',
      { '~standard': { version: 1, vendor: 'x', jsonSchema: { input: () => ({}), output: () => ({}) } } },
      'input: expected a Standard Schema of version 1 with ~standard.validate()',
    ],
  ])('keeps refusing %s', (_name, input, message) => {
    expect(create(input)).toThrow(TypeError);
    expect(create(input)).toThrow(message);
  });
});

describe('in workerd, where code generation from strings is refused in requests', () => {
  let host: WorkerHost;
  beforeAll(async () => {
    const env = await exampleEnv();
    host = await startWorker('test/fixtures/standard-schema-worker.ts', {
      JWT_JWKS: env['JWT_JWKS'] ?? '',
      PROVIDER_SCOPE: env['PROVIDER_SCOPE'] ?? '',
    });
  }, 90_000);
  afterAll(() => host?.stop());

  it('refuses `new Function` in a request (so what follows ran without it)', async () => {
    expect(await (await fetch(`${host.url}/eval`)).json()).toEqual({
      atStartup: 'allowed',
      perRequest: 'refused (EvalError)',
    });
  });

  it.each(LIBRARIES)(
    'validates with $name: introspection, 202 with the parsed body, 422 with the paths',
    async ({ name, pattern, maximum }) => {
      const client = actionClient(`${host.url}/${name === 'zod' ? 'zod' : 'ark'}`, {
        token: await mint(USERS.creator, { issuer: 'anyone' }),
      });
      expect((await client.introspect()).body.input_schema).toMatchObject({
        $schema: 'http://json-schema.org/draft-07/schema#',
        properties: { input_string: { type: 'string', pattern: '^[a-z]+$' }, count: { type: 'integer', maximum: 10 } },
        required: ['input_string'],
      });
      const valid = await client.run({ body: { input_string: 'abc', count: 3 } });
      expectAction(valid, 202);
      expect(valid.body.details).toEqual({ got: { input_string: 'abc', count: 3 } });
      const invalid = await client.run({ body: { input_string: SECRET, count: SECRET_NUMBER } });
      expectError(invalid, 422, 'RequestValidationError');
      expect(fieldLines(invalid)).toEqual([
        `Field '$.input_string' (category: '${pattern}'): ${SCRUBBED}`,
        `Field '$.count' (category: '${maximum}'): ${SCRUBBED}`,
      ]);
    },
  );
});
