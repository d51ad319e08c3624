/**
 * @module test/run-accept: run (`POST /run`, `POST /actions`): accepted requests, the ActionStatus
 * answer, the run callback's context, runnable_by.
 */
import * as v from 'valibot';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { type ActionProvider, type Caller, createActionProvider, type RunContext, silentLogger } from '../src/index.ts';
import { rid } from './support/actions.ts';
import { expectAction, expectError, ISO_UTC } from './support/assertions.ts';
import { gate, within } from './support/async.ts';
import { GROUP, groupUrn, testAuth, tokens, USERS, urn } from './support/identities.ts';
import { description, testProvider } from './support/providers.ts';
import { connectRun, ROUTES } from './support/routes.ts';
import { type Servable, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

describe.each(TRANSPORTS)('run, accepted requests ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('answers 202 with a full ActionStatus and the defaults filled in', async () => {
      const before = Date.now();
      const { run } = await open(testProvider());
      const reply = await run(t.creator, { request_id: rid(), body: { x: 1 } });
      expectAction(reply, 202);
      const status = reply.body;
      expect(status).toMatchObject({
        status: 'ACTIVE',
        creator_id: urn(USERS.creator),
        label: null,
        monitor_by: [urn(USERS.creator)],
        manage_by: [urn(USERS.creator)],
        completion_time: null,
        release_after: 'P30D',
        details: { got: { x: 1 } },
      });
      const started = Date.parse(status.start_time);
      expect(started).toBeGreaterThanOrEqual(before - 1000);
      expect(started).toBeLessThanOrEqual(Date.now() + 1000);
      // Exactly the standard keys: the provider's private state never leaves.
      expect(status).not.toHaveProperty('state');
      expect(status).not.toHaveProperty('request');
    });

    it('writes times from the injected clock as ISO 8601 with +00:00, and a completed action gets a completion_time', async () => {
      const now = Date.parse('2024-01-02T03:04:05.678Z');
      const { run } = await open(
        testProvider({
          clock: () => now,
          run: () => ({ status: 'SUCCEEDED', details: { done: true }, display_status: 'Done' }),
        }),
      );
      const reply = await run(t.creator, { request_id: rid(), body: {} });
      expectAction(reply, 202);
      expect(reply.body).toMatchObject({
        status: 'SUCCEEDED',
        start_time: '2024-01-02T03:04:05.678+00:00',
        completion_time: '2024-01-02T03:04:05.678+00:00',
        display_status: 'Done',
        details: { done: true },
      });
      expect(reply.body.completion_time).toMatch(ISO_UTC);
    });

    it('echoes label, monitor_by, manage_by and release_after as given', async () => {
      const { run } = await open(testProvider());
      const monitorBy = [urn(USERS.monitor), groupUrn(GROUP)];
      const manageBy = [urn(USERS.manager)];
      const reply = await run(t.creator, {
        request_id: rid(),
        body: {},
        label: 'My action',
        monitor_by: monitorBy,
        manage_by: manageBy,
        release_after: 'P7D',
      });
      expectAction(reply, 202);
      expect(reply.body).toMatchObject({
        label: 'My action',
        monitor_by: monitorBy,
        manage_by: manageBy,
        release_after: 'P7D',
      });
    });

    it('accepts allowed_clients from the spec pattern', async () => {
      const { run } = await open(testProvider());
      const reply = await run(t.creator, {
        request_id: rid(),
        body: {},
        allowed_clients: ['public', 'globus', 'creator', 'x'],
      });
      expectAction(reply, 202);
    });

    it('gives the run callback the validated, typed body, the caller, the action id and an AbortSignal', async () => {
      type Body = { count: number; tag: string };
      let seen: RunContext<Body> | undefined;
      let storedDuringRun: unknown;
      // createActionProvider itself (not testProvider), so the body type is inferred from the schema.
      const provider: ActionProvider = createActionProvider({
        description: description(),
        auth: testAuth(),
        logger: silentLogger,
        input: v.object({ count: v.pipe(v.string(), v.transform(Number)), tag: v.optional(v.string(), 'none') }),
        run: async (context) => {
          expectTypeOf(context.request.body).toEqualTypeOf<Body>();
          seen = context;
          storedDuringRun = await provider.actions.get(context.actionId);
          return { status: 'ACTIVE' };
        },
      });
      const { run } = await open(provider);
      const requestId = rid();
      const reply = await run(t.creator, {
        request_id: requestId,
        body: { count: '42', dropped: 'unknown key' },
        label: 'typed',
        tags: ['ignored'],
      });
      expectAction(reply, 202);
      expect(seen).toBeDefined();
      const context = seen as RunContext<Body>;
      // Validated output of the schema: transformed, defaults applied, unknown keys dropped.
      expect(context.request).toEqual({
        request_id: requestId,
        body: { count: 42, tag: 'none' },
        label: 'typed',
        monitor_by: null,
        manage_by: null,
        allowed_clients: null,
        deadline: null,
        release_after: null,
      });
      expect(context.actionId).toBe(reply.body.action_id);
      const who: Caller = context.caller;
      expect(who.identity).toBe(urn(USERS.creator));
      expect(who.identities).toEqual(expect.arrayContaining([urn(USERS.creator), urn(USERS.creatorLinked)]));
      expect(who.token).toBe(t.creator);
      expect(JSON.stringify(who)).not.toContain(t.creator);
      expect(context.signal).toBeInstanceOf(AbortSignal);
      expect(context.signal.aborted).toBe(false);
      // The action is stored before run is called, so a background job could update it.
      expect(storedDuringRun).toMatchObject({ action_id: reply.body.action_id, status: 'ACTIVE' });
    });

    it("aborts the run callback's signal when the client goes away", async () => {
      const started = gate();
      const aborted = gate();
      const { fetch } = await open(
        testProvider({
          run: ({ signal }) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborted.open();
                resolve({ status: 'ACTIVE' });
              });
              started.open();
            }),
        }),
      );
      const client = new AbortController();
      const pending = fetch(route, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.creator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ request_id: rid(), body: {} }),
        signal: client.signal,
      });
      // Over HTTP the client's fetch fails; in process the handler may still hand back its answer.
      const settled = pending.then(
        (response) => response.body?.cancel(),
        () => undefined,
      );
      await within(started.promise, 5000, 'run was not called');
      client.abort();
      await within(aborted.promise, 5000, "run's signal was not aborted");
      await settled;
    });
  });
});

describe.each(TRANSPORTS)('run, runnable_by ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('answers 403 ForbiddenRequest to a caller not in runnable_by, without calling run', async () => {
      let calls = 0;
      const { run } = await open(
        testProvider({
          description: description({ runnable_by: [urn(USERS.creator)] }),
          run: () => {
            calls++;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const reply = await run(t.stranger, { request_id: rid(), body: {} });
      expectError(reply, 403, 'ForbiddenRequest');
      expect(calls).toBe(0);
      expectAction(await run(t.creator, { request_id: rid(), body: {} }), 202);
      expect(calls).toBe(1);
    });

    it('lets a linked identity of the caller match runnable_by', async () => {
      const { run } = await open(
        testProvider({ description: description({ runnable_by: [urn(USERS.creatorLinked)] }) }),
      );
      // The creator's token links creatorLinked.
      const reply = await run(t.creator, { request_id: rid(), body: {} });
      expectAction(reply, 202);
      expect(reply.body.creator_id).toBe(urn(USERS.creator));
    });

    it('lets a member of a group in runnable_by run, and nobody else', async () => {
      const { run } = await open(testProvider({ description: description({ runnable_by: [groupUrn(GROUP)] }) }));
      const reply = await run(t.member, { request_id: rid(), body: {} });
      expectAction(reply, 202);
      expect(reply.body.creator_id).toBe(urn(USERS.member));
      expectError(await run(t.stranger, { request_id: rid(), body: {} }), 403, 'ForbiddenRequest');
      expectError(await run(t.creator, { request_id: rid(), body: {} }), 403, 'ForbiddenRequest');
    });
  });
});
