/**
 * @module test/run-envelope: run (`POST /run`, `POST /actions`): reading the body and validating
 * the ActionRequest envelope.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { rid } from './support/actions.ts';
import { expectAction, expectError, fieldLines } from './support/assertions.ts';
import { GROUP, groupUrn, tokens, USERS, urn } from './support/identities.ts';
import { description, testProvider } from './support/providers.ts';
import { connectRun, ROUTES } from './support/routes.ts';
import { type Servable, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

const DAY = 86_400_000;
const VALID_ID = urn(USERS.monitor);

describe.each(TRANSPORTS)('run, reading the body ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('ignores an unknown top-level field such as tags', async () => {
      let seen: unknown;
      const { run } = await open(
        testProvider({
          run: ({ request }) => {
            seen = request;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const reply = await run(t.creator, { request_id: rid(), body: { k: 'v' }, tags: ['a', 'b'] });
      expectAction(reply, 202);
      expect(seen).not.toHaveProperty('tags');
    });

    it('coerces a numeric request_id to a string', async () => {
      let requestId: unknown;
      const { run, raw } = await open(
        testProvider({
          run: ({ request }) => {
            requestId = request.request_id;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const number = Date.now();
      // A RunRequest's request_id is a string: the number goes raw.
      expectAction(await raw('POST', route, { token: t.creator, body: { request_id: number, body: {} } }), 202);
      expect(requestId).toBe(String(number));
      // The same request with the id as a string is the same request.
      expectAction(await run(t.creator, { request_id: String(number), body: {} }), 200);
    });

    it.each([
      ['no Content-Type', undefined],
      ['text/plain', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['application/octet-stream', 'application/octet-stream'],
      ['application/json; charset=utf-8', 'application/json; charset=utf-8'],
    ])('parses the body as JSON whatever the Content-Type: %s', async (_name, contentType) => {
      const { fetch } = await open(testProvider());
      // Bytes, so that fetch adds no Content-Type of its own.
      const response = await fetch(route, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.creator}`,
          ...(contentType === undefined ? {} : { 'content-type': contentType }),
        },
        body: new TextEncoder().encode(JSON.stringify({ request_id: rid(), body: { ct: contentType ?? null } })),
      });
      const text = await response.text();
      expect(response.status, text).toBe(202);
      expect(JSON.parse(text).details).toEqual({ got: { ct: contentType ?? null } });
    });

    it.each([
      ['invalid JSON', '{"request_id": "x", "body": '],
      ['an empty body', ''],
      ['whitespace only', '  \n '],
      ['a trailing comma', '{"request_id": "x", "body": {},}'],
    ])('answers %s with 400 BadActionRequest "Invalid JSON"', async (_name, text) => {
      const { raw } = await open(testProvider());
      expectError(
        await raw('POST', route, { token: t.creator, raw: text, headers: { 'content-type': 'application/json' } }),
        400,
        'BadActionRequest',
        'Invalid JSON',
      );
    });

    it('answers a POST without any body with 400 BadActionRequest "Invalid JSON"', async () => {
      const { raw } = await open(testProvider());
      expectError(await raw('POST', route, { token: t.creator }), 400, 'BadActionRequest', 'Invalid JSON');
    });

    it.each([['[]'], ['"x"'], ['null'], ['42'], ['true']])(
      'answers JSON that is not an object (%s) with 422',
      async (text) => {
        const { raw } = await open(testProvider());
        expectError(
          await raw('POST', route, { token: t.creator, raw: text }),
          422,
          'RequestValidationError',
          /^Field '\$' \(category: 'type'\): /,
        );
      },
    );
  });
});

describe.each(TRANSPORTS)('run, the ActionRequest envelope ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    /**
     * POST `request` as the creator and expect a 422 whose description has exactly `lines`. Raw:
     * most malformed envelopes are not RunRequests the client could type.
     */
    async function rejects(request: unknown, lines: (string | RegExp)[]) {
      let calls = 0;
      const { raw } = await open(
        testProvider({
          run: () => {
            calls++;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const reply = await raw('POST', route, { token: t.creator, body: request });
      expectError(reply, 422, 'RequestValidationError');
      const got = fieldLines(reply);
      expect(got).toHaveLength(lines.length);
      for (const [i, line] of lines.entries()) {
        if (typeof line === 'string') expect(got[i]).toBe(line);
        else expect(got[i]).toMatch(line);
      }
      expect(calls).toBe(0);
      return reply;
    }

    it('names a missing request_id and a missing body, joined by "; "', async () => {
      const reply = await rejects({ label: 'x' }, [
        "Field '$.request_id' (category: 'required'): field required",
        "Field '$.body' (category: 'required'): field required",
      ]);
      expect(reply.body.description).toBe(
        "Field '$.request_id' (category: 'required'): field required; Field '$.body' (category: 'required'): field required",
      );
    });

    it('names a missing request_id alone', async () => {
      await rejects({ body: {} }, ["Field '$.request_id' (category: 'required'): field required"]);
    });

    it('names a missing body alone', async () => {
      await rejects({ request_id: rid() }, ["Field '$.body' (category: 'required'): field required"]);
    });

    it.each([
      ['a string', 'x'],
      ['an array', [1]],
      ['null', null],
      ['a number', 3],
    ])('rejects a body that is %s', async (_name, body) => {
      await rejects({ request_id: rid(), body }, [/^Field '\$\.body' \(category: 'type'\): /]);
    });

    it.each([
      ['a boolean', true],
      ['an object', { id: 1 }],
      ['a list', ['r']],
    ])('rejects a request_id that is %s', async (_name, requestId) => {
      await rejects({ request_id: requestId, body: {} }, [/^Field '\$\.request_id' \(category: '\w+'\): /]);
    });

    it.each([
      ['empty', ''],
      ['65 characters', 'L'.repeat(65)],
      ['a number', 12345],
    ])('rejects a label that is %s, without echoing it', async (_name, label) => {
      const reply = await rejects({ request_id: rid(), body: {}, label }, [/^Field '\$\.label' \(category: '\w+'\): /]);
      if (typeof label === 'string' && label !== '') expect(reply.text).not.toContain(label);
      if (typeof label === 'number') expect(reply.text).not.toContain(String(label));
    });

    it.each([
      ['1 character', 'a'],
      ['64 characters', 'L'.repeat(64)],
      ['64 non-ASCII characters', 'é'.repeat(64)],
      ['64 characters outside the BMP', '😀'.repeat(64)],
    ])('accepts a label of %s and echoes it', async (_name, label) => {
      const { run } = await open(testProvider());
      const reply = await run(t.creator, { request_id: rid(), body: {}, label });
      expectAction(reply, 202);
      expect(reply.body.label).toBe(label);
    });

    it('rejects a label of 65 characters outside the BMP', async () => {
      await rejects({ request_id: rid(), body: {}, label: '😀'.repeat(65) }, [
        /^Field '\$\.label' \(category: '\w+'\): /,
      ]);
    });

    it.each(['monitor_by', 'manage_by'])('rejects %s given as a string, not a list', async (field) => {
      await rejects({ request_id: rid(), body: {}, [field]: VALID_ID }, [
        new RegExp(`^Field '\\$\\.${field}' \\(category: 'type'\\): `),
      ]);
    });

    it.each(['monitor_by', 'manage_by'])('rejects a malformed principal URN in %s, naming its index', async (field) => {
      const bad = 'urn:globus:auth:identity:SECRET-not-a-uuid';
      const reply = await rejects({ request_id: rid(), body: {}, [field]: [VALID_ID, bad] }, [
        new RegExp(`^Field '\\$\\.${field}\\[1\\]' \\(category: 'pattern'\\): `),
      ]);
      expect(reply.text).not.toContain('SECRET');
    });

    it('names every malformed principal of both lists', async () => {
      await rejects(
        { request_id: rid(), body: {}, monitor_by: ['nobody'], manage_by: [VALID_ID, 'urn:globus:groups:id:x'] },
        [
          /^Field '\$\.monitor_by\[0\]' \(category: 'pattern'\): /,
          /^Field '\$\.manage_by\[1\]' \(category: 'pattern'\): /,
        ],
      );
    });

    it('accepts identity and group URNs in monitor_by and manage_by', async () => {
      const { run } = await open(testProvider());
      const reply = await run(t.creator, {
        request_id: rid(),
        body: {},
        monitor_by: [groupUrn(GROUP)],
        manage_by: [VALID_ID, groupUrn(GROUP)],
      });
      expectAction(reply, 202);
      expect(reply.body.monitor_by).toEqual([groupUrn(GROUP)]);
      expect(reply.body.manage_by).toEqual([VALID_ID, groupUrn(GROUP)]);
    });

    it('rejects a bad allowed_clients item, naming its index', async () => {
      await rejects({ request_id: rid(), body: {}, allowed_clients: ['public', 'everyone'] }, [
        /^Field '\$\.allowed_clients\[1\]' \(category: 'pattern'\): /,
      ]);
    });

    it('rejects allowed_clients given as a string', async () => {
      await rejects({ request_id: rid(), body: {}, allowed_clients: 'public' }, [
        /^Field '\$\.allowed_clients' \(category: 'type'\): /,
      ]);
    });

    it.each(['P1M', 'P1Y', 'P2W', 'PT1H30M', 'P1DT2H', 'P0D', 'PT0.5S', 'P0Y2M3W4DT5H6M7S', 'P12M', 'P366D'])(
      'accepts release_after %s and echoes it',
      async (duration) => {
        const { run } = await open(testProvider());
        const reply = await run(t.creator, { request_id: rid(), body: {}, release_after: duration });
        expectAction(reply, 202);
        expect(reply.body.release_after).toBe(duration);
      },
    );

    it.each([
      [3600, 'PT3600S'],
      [0, 'PT0S'],
    ])('accepts release_after as integer seconds (%s) and echoes it as ISO 8601', async (seconds, duration) => {
      let given: unknown;
      const { run } = await open(
        testProvider({
          run: ({ request }) => {
            given = request.release_after;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const reply = await run(t.creator, { request_id: rid(), body: {}, release_after: seconds });
      expectAction(reply, 202);
      expect(reply.body.release_after).toBe(duration);
      expect(given).toBe(duration);
    });

    it.each([
      ['garbage', 'thirty days'],
      ['P alone', 'P'],
      ['PT alone', 'PT'],
      ['a negative number', -5],
      ['a fraction of seconds', 1.5],
      ['a list', ['P1D']],
    ])('rejects release_after that is %s', async (_name, releaseAfter) => {
      await rejects({ request_id: rid(), body: {}, release_after: releaseAfter }, [
        /^Field '\$\.release_after' \(category: '\w+'\): /,
      ]);
    });

    it('accepts a deadline within maximum_deadline, in any offset', async () => {
      const { run } = await open(testProvider());
      const inADay = new Date(Date.now() + DAY).toISOString();
      expectAction(await run(t.creator, { request_id: rid(), body: {}, deadline: inADay }), 202);
      const withOffset = new Date(Date.now() + 29 * DAY).toISOString().replace('Z', '+00:00');
      expectAction(await run(t.creator, { request_id: rid(), body: {}, deadline: withOffset }), 202);
    });

    it('passes the deadline to run as given', async () => {
      let given: unknown;
      const { run } = await open(
        testProvider({
          run: ({ request }) => {
            given = request.deadline;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const deadline = new Date(Date.now() + DAY).toISOString();
      expectAction(await run(t.creator, { request_id: rid(), body: {}, deadline }), 202);
      expect(given).toBe(deadline);
    });

    it('rejects a deadline in the past', async () => {
      await rejects({ request_id: rid(), body: {}, deadline: new Date(Date.now() - 60_000).toISOString() }, [
        /^Field '\$\.deadline' \(category: 'value'\): /,
      ]);
    });

    it('rejects a deadline beyond the default maximum_deadline of P30D', async () => {
      await rejects({ request_id: rid(), body: {}, deadline: new Date(Date.now() + 31 * DAY).toISOString() }, [
        /^Field '\$\.deadline' \(category: 'value'\): .*P30D/,
      ]);
    });

    it('enforces a custom maximum_deadline', async () => {
      const { run } = await open(testProvider({ description: description({ maximum_deadline: 'PT1H' }) }));
      const soon = new Date(Date.now() + 30 * 60_000).toISOString();
      expectAction(await run(t.creator, { request_id: rid(), body: {}, deadline: soon }), 202);
      const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const reply = await run(t.creator, { request_id: rid(), body: {}, deadline: later });
      expectError(reply, 422, 'RequestValidationError', /^Field '\$\.deadline' \(category: 'value'\): .*PT1H/);
    });

    it.each([
      ['garbage', 'tomorrow'],
      ['without an offset', '2999-01-01T00:00:00'],
      ['a number', 1_900_000_000],
    ])('rejects a deadline that is %s', async (_name, deadline) => {
      await rejects({ request_id: rid(), body: {}, deadline }, [/^Field '\$\.deadline' \(category: '\w+'\): /]);
    });
  });
});
