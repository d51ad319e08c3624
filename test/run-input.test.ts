/**
 * @module test/run-input: run (`POST /run`, `POST /actions`): `body` against the provider's input
 * schema (JSON Schema or valibot), and scrubbing.
 */
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InputOption } from '../src/index.ts';
import { rid } from './support/actions.ts';
import { expectAction, expectError, fieldLines } from './support/assertions.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { connectRun, ROUTES } from './support/routes.ts';
import { type Servable, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

/** A value that must never come back in an error while scrubbing is on. */
const SECRET = 'SECRET-user-data-4f1c';
const SECRET_NUMBER = 987_654_321;

const jsonSchema = {
  type: 'object',
  properties: {
    input_string: { type: 'string', pattern: '^[a-z]+$' },
    count: { type: 'integer', maximum: 10 },
    items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
  },
  required: ['input_string'],
};

const valibotSchema = v.object({
  input_string: v.string(),
  email: v.optional(v.pipe(v.string(), v.email())),
  count: v.optional(v.pipe(v.number(), v.maxValue(10))),
  items: v.optional(v.array(v.object({ name: v.string() }))),
});

const JSON_SCHEMA_INPUTS: [string, InputOption][] = [
  ['a JSON Schema object', jsonSchema],
  ['a JSON Schema string', JSON.stringify(jsonSchema)],
];

describe.each(TRANSPORTS)('run, input schema ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    async function post(input: InputOption, body: Record<string, unknown>, scrub?: boolean) {
      let calls = 0;
      const { run } = await open(
        testProvider({
          input,
          ...(scrub === undefined ? {} : { scrubValidationErrors: scrub }),
          run: ({ request }) => {
            calls++;
            return { status: 'ACTIVE', details: { got: request.body } };
          },
        }),
      );
      const reply = await run(t.creator, { request_id: rid(), body });
      return { reply, calls: () => calls };
    }

    describe.each(JSON_SCHEMA_INPUTS)('given %s', (_name, input) => {
      it('accepts a body that matches', async () => {
        const { reply, calls } = await post(input, { input_string: 'abc', count: 3, items: [{ name: 'x' }] });
        expectAction(reply, 202);
        expect(reply.body.details).toEqual({ got: { input_string: 'abc', count: 3, items: [{ name: 'x' }] } });
        expect(calls()).toBe(1);
      });

      it('answers a type error with 422, the scrubbed message and no user data', async () => {
        const { reply, calls } = await post(input, { input_string: [SECRET] });
        expectError(
          reply,
          422,
          'RequestValidationError',
          "Field '$.input_string' (category: 'type'): Input failed schema validation",
        );
        expect(reply.text).not.toContain(SECRET);
        expect(calls()).toBe(0);
      });

      it('names a missing required property', async () => {
        const { reply } = await post(input, {});
        expectError(
          reply,
          422,
          'RequestValidationError',
          "Field '$.input_string' (category: 'required'): Input failed schema validation",
        );
      });

      it('joins several errors with "; " and keeps user values out', async () => {
        const { reply } = await post(input, { input_string: SECRET, count: SECRET_NUMBER });
        expectError(reply, 422, 'RequestValidationError');
        expect(fieldLines(reply).sort()).toEqual(
          [
            "Field '$.count' (category: 'maximum'): Input failed schema validation",
            "Field '$.input_string' (category: 'pattern'): Input failed schema validation",
          ].sort(),
        );
        expect(reply.text).not.toContain(SECRET);
        expect(reply.text).not.toContain(String(SECRET_NUMBER));
      });

      it('names nested paths such as $.items[1].name', async () => {
        const { reply } = await post(input, { input_string: 'ok', items: [{ name: 'a' }, { name: 2 }, {}] });
        expectError(reply, 422, 'RequestValidationError');
        expect(fieldLines(reply).sort()).toEqual(
          [
            "Field '$.items[1].name' (category: 'type'): Input failed schema validation",
            "Field '$.items[2].name' (category: 'required'): Input failed schema validation",
          ].sort(),
        );
      });

      it("shows the library's message when scrubbing is off", async () => {
        const { reply } = await post(input, { input_string: 'ok', count: SECRET_NUMBER }, false);
        expectError(reply, 422, 'RequestValidationError', /^Field '\$\.count' \(category: 'maximum'\): /);
        expect(reply.body.description).not.toContain('Input failed schema validation');
        // The library's own words, which here include the value.
        expect(reply.body.description).toContain(String(SECRET_NUMBER));
      });
    });

    describe('given a valibot schema', () => {
      it('accepts a body that matches and hands run the parsed output', async () => {
        const { reply } = await post(valibotSchema, { input_string: 'hello', extra: 'dropped' });
        expectAction(reply, 202);
        expect(reply.body.details).toEqual({ got: { input_string: 'hello' } });
      });

      it("answers a type error with 422 in the `Field '<path>' (category: '<kind>'): <message>` format, without the value", async () => {
        const { reply, calls } = await post(valibotSchema, { input_string: SECRET_NUMBER });
        expectError(
          reply,
          422,
          'RequestValidationError',
          "Field '$.input_string' (category: 'type'): Invalid type: Expected string",
        );
        expect(reply.text).not.toContain(String(SECRET_NUMBER));
        expect(calls()).toBe(0);
      });

      it('names a missing field as required', async () => {
        const { reply } = await post(valibotSchema, {});
        expectError(
          reply,
          422,
          'RequestValidationError',
          "Field '$.input_string' (category: 'required'): field required",
        );
      });

      it('keeps user values out of every scrubbed message, whatever the check', async () => {
        const { reply } = await post(valibotSchema, { input_string: 'ok', email: SECRET, count: SECRET_NUMBER });
        expectError(reply, 422, 'RequestValidationError');
        const lines = fieldLines(reply);
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(/^Field '\$\.email' \(category: 'email'\): Invalid email/);
        expect(lines[1]).toMatch(/^Field '\$\.count' \(category: 'max_value'\): Invalid value: Expected <=10/);
        expect(reply.text).not.toContain(SECRET);
        expect(reply.text).not.toContain(String(SECRET_NUMBER));
      });

      it('names nested paths such as $.items[1].name', async () => {
        const { reply } = await post(valibotSchema, { input_string: 'ok', items: [{ name: 'a' }, { name: 2 }] });
        expectError(
          reply,
          422,
          'RequestValidationError',
          "Field '$.items[1].name' (category: 'type'): Invalid type: Expected string",
        );
      });

      it("shows valibot's full message when scrubbing is off", async () => {
        const { reply } = await post(valibotSchema, { input_string: SECRET_NUMBER }, false);
        expectError(
          reply,
          422,
          'RequestValidationError',
          `Field '$.input_string' (category: 'type'): Invalid type: Expected string but received ${SECRET_NUMBER}`,
        );
      });

      it('scrubs user data from the envelope errors too, and shows it when scrubbing is off', async () => {
        const label = `${SECRET}-${'x'.repeat(64)}`;
        const scrubbed = await open(testProvider());
        // A numeric label is not a RunRequest's: raw.
        const hidden = await scrubbed.raw('POST', route, {
          token: t.creator,
          body: { request_id: rid(), body: {}, label: SECRET_NUMBER },
        });
        expectError(hidden, 422, 'RequestValidationError', /^Field '\$\.label' \(category: 'type'\): /);
        expect(hidden.text).not.toContain(String(SECRET_NUMBER));
        const long = await scrubbed.run(t.creator, { request_id: rid(), body: {}, label });
        expectError(long, 422, 'RequestValidationError', /^Field '\$\.label' /);
        expect(long.text).not.toContain(SECRET);
        const unscrubbed = await open(testProvider({ scrubValidationErrors: false }));
        const shown = await unscrubbed.raw('POST', route, {
          token: t.creator,
          body: { request_id: rid(), body: {}, label: SECRET_NUMBER },
        });
        expectError(shown, 422, 'RequestValidationError', /^Field '\$\.label' \(category: 'type'\): /);
        expect(shown.text).toContain(String(SECRET_NUMBER));
      });
    });
  });
});

describe('a body failing on many items, JSON Schema and valibot', () => {
  const xs = { type: 'object', properties: { xs: { type: 'array', items: { type: 'string' } } } };
  const SCHEMAS: [string, InputOption, string][] = [
    ['a JSON Schema', xs, "Field '$.xs[0]' (category: 'type'): Input failed schema validation"],
    [
      'a valibot schema',
      v.object({ xs: v.array(v.string()) }),
      "Field '$.xs[0]' (category: 'type'): Invalid type: Expected string",
    ],
  ];
  const post = async (input: InputOption, count: number) => {
    const { run } = await connectRun(TRANSPORTS[0] as (typeof TRANSPORTS)[number], '/run', testProvider({ input }));
    return run(t.creator, { request_id: rid(), body: { xs: Array(count).fill(1) } });
  };

  it.each(SCHEMAS)(
    '%s: 5,000 issues answer with the first 100 lines and how many more',
    async (_name, input, first) => {
      const reply = await post(input, 5_000);
      expectError(reply, 422, 'RequestValidationError');
      const lines = fieldLines(reply);
      expect(lines).toHaveLength(101);
      expect(lines[0]).toBe(first);
      expect(lines[99]).toMatch(/^Field '\$\.xs\[99\]' /);
      expect(lines[100]).toBe('and 4900 more issues');
    },
  );

  it.each(SCHEMAS)(
    '%s: a body of 100,000 items is checked to its first issue only, a 422 of two lines',
    async (_name, input, first) => {
      const reply = await post(input, 100_000);
      expectError(reply, 422, 'RequestValidationError');
      expect(fieldLines(reply)).toEqual([first, 'and possibly more issues (the body is too large to list them all)']);
    },
  );

  it('a key holding a lone surrogate, which the JSON Schema validator cannot check, is the 422 (not a 500)', async () => {
    const provider = testProvider({ input: { type: 'object', additionalProperties: { type: 'number' } } });
    const reply = await rawCaller(provider)('POST', '/run', {
      token: t.creator,
      raw: `{"request_id":"${rid()}","body":{"a\\ud800":1}}`,
      headers: { 'content-type': 'application/json' },
    });
    expectError(
      reply,
      422,
      'RequestValidationError',
      "Field '$' (category: 'value'): A property name holds an unpaired surrogate, which the JSON Schema validator cannot check",
    );
  });
});
