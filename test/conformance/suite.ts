/**
 * @module test/conformance/suite: one runtime-agnostic suite. It takes a base URL and drives a
 * running echo provider over HTTP with the library's own client: introspection, run, idempotent
 * rerun, status, cancel, release, log, enumerate, errors and authorization. Every host runs
 * exactly this.
 */
import { expect, it } from 'vitest';
import { type ActionClient, type ActionClientOptions, actionClient } from '../../src/testing/index.ts';
import { rid } from '../support/actions.ts';
import { mint, USERS, urn } from '../support/identities.ts';
import { type RawCall, rawCaller } from '../support/raw.ts';

export interface ConformanceOptions {
  /** The provider's scope, in the tokens the suite mints. Default the test scope. */
  scope?: string;
  /** Its title in introspection. Default `Echo`. */
  title?: string;
}

export function conformanceSuite(baseUrl: () => string, conformance: ConformanceOptions = {}): void {
  const scope = conformance.scope === undefined ? {} : { scope: conformance.scope };
  /** The library's client as `token` (none when undefined). */
  const as = (token?: string, routes?: ActionClientOptions['routes']): ActionClient =>
    actionClient(baseUrl(), { ...(token === undefined ? {} : { token }), ...(routes === undefined ? {} : { routes }) });
  /** A raw request: for the bare base URL, HEAD, OPTIONS, invalid JSON, wrong methods and unknown paths. */
  const raw: RawCall = (method, path, options) => rawCaller(baseUrl())(method, path, options);
  let creator: string;
  let monitor: string;
  let stranger: string;
  const start = async (extra: Record<string, unknown> = {}, token?: string) => {
    creator ??= await mint(USERS.creator, { ...scope, identitySet: [USERS.creator, USERS.creatorLinked] });
    monitor ??= await mint(USERS.monitor, scope);
    stranger ??= await mint(USERS.stranger, scope);
    const request = { request_id: rid(), body: { input_string: 'hello' }, ...extra };
    const reply = await as(token ?? creator).run(request);
    return { request, reply };
  };

  it('introspects with and without the trailing slash, HEAD and OPTIONS', async () => {
    const base = baseUrl().replace(/\/$/, '');
    // The client asks for `<base>/`; the base alone goes raw.
    for (const reply of [await as().introspect(), await rawCaller(base)('GET', '')]) {
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        title: conformance.title ?? 'Echo',
        types: ['ACTION'],
        api_version: '1.0',
        synchronous: true,
        log_supported: true,
      });
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      // Every answer carries its request id, and the example's onResponse hook ran on this host.
      expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(reply.headers.get('server-timing')).toMatch(/^provider;dur=\d+\.\d$/);
    }
    expect((await raw('HEAD', '/')).status).toBe(200);
    const options = await raw('OPTIONS', '/');
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
  });

  it("answers every request with its id: the caller's X-Request-Id, a traceparent's trace id, or a new one", async () => {
    const given = await raw('GET', '/', { headers: { 'x-request-id': 'req-42.a_b' } });
    expect(given.headers.get('x-request-id')).toBe('req-42.a_b');
    const traced = await raw('GET', '/no/such/route', {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(traced.status).toBe(404);
    expect(traced.headers.get('x-request-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traced.headers.get('server-timing')).toMatch(/^provider;dur=/);
    // An id that is not safe to log (spaces, 300 characters) is replaced, never echoed.
    for (const bad of ['two words', 'x'.repeat(300)]) {
      const reply = await raw('OPTIONS', '/run', { headers: { 'x-request-id': bad } });
      expect(reply.status).toBe(204);
      expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('runs, and an identical rerun answers 200 with the same action; a different one 409', async () => {
    const { request, reply } = await start();
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({
      status: 'SUCCEEDED',
      details: { you_said: 'hello' },
      creator_id: urn(USERS.creator),
    });
    expect(reply.body.completion_time).toMatch(/\+00:00$/);
    const again = await as(creator, 'actions').run(request);
    expect(again.status).toBe(200);
    expect(again.body.action_id).toBe(reply.body.action_id);
    const changed = await as(creator).run({ ...request, body: { input_string: 'other' } });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe('ActionConflict');
  });

  it('answers status on both route families, to the creator and a linked identity', async () => {
    const { reply } = await start();
    const id = reply.body.action_id as string;
    for (const status of [await as(creator).status(id), await as(creator, 'actions').status(id)]) {
      expect(status.status).toBe(200);
      expect(status.body).toEqual(reply.body);
    }
    // Globus gives every linked identity's token the same identity_set.
    const linked = await mint(USERS.creatorLinked, { ...scope, identitySet: [USERS.creatorLinked, USERS.creator] });
    expect((await as(linked).status(id)).status).toBe(200);
  });

  it('cancel returns a completed action unchanged; release deletes it and frees its request_id', async () => {
    const { request, reply } = await start();
    const id = reply.body.action_id as string;
    const cancel = await as(creator).cancel(id);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual(reply.body);
    const release = await as(creator, 'actions').release(id);
    expect(release.status).toBe(200);
    expect(release.body.action_id).toBe(id);
    expect((await as(creator).status(id)).status).toBe(404);
    const rerun = await as(creator).run(request);
    expect(rerun.status).toBe(202);
    expect(rerun.body.action_id).not.toBe(id);
  });

  it("serves the log and enumerates the caller's actions", async () => {
    const { reply } = await start();
    const id = reply.body.action_id as string;
    const log = await as(creator, 'actions').log(id, { limit: 5 });
    expect(log.status).toBe(200);
    expect(log.body).toMatchObject({ has_next_page: false, limit: 5, marker: null });
    expect(log.body.entries[0].message).toBe('Echoed "hello"');
    const listed = await as(creator).enumerate({ status: 'succeeded' });
    expect(listed.status).toBe(200);
    expect(listed.body.map((a: { action_id: string }) => a.action_id)).toContain(id);
    const strangers = await as(stranger).enumerate({ status: 'succeeded' });
    expect(strangers.body.map((a: { action_id: string }) => a.action_id)).not.toContain(id);
  });

  it('authorizes: monitor may look, not manage; a stranger sees nothing; no token is 401', async () => {
    const { reply } = await start({ monitor_by: [urn(USERS.monitor)] });
    const id = reply.body.action_id as string;
    expect((await as(monitor).status(id)).status).toBe(200);
    const cancel = await as(monitor).cancel(id);
    expect(cancel.status).toBe(403);
    expect(cancel.body.code).toBe('ForbiddenRequest');
    const hidden = await as(stranger).status(id);
    const unknown = await as(stranger).status('no-such-action');
    expect(hidden.status).toBe(404);
    expect(hidden.text).toBe(unknown.text.replace('no-such-action', id));
    const anonymous = await as().status(id);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UnauthorizedRequest');
  });

  it("answers bad input and bad routes with the contract's JSON errors", async () => {
    creator ??= await mint(USERS.creator, scope);
    const invalid = await raw('POST', '/run', { token: creator, raw: '{not json' });
    expect([invalid.status, invalid.body]).toEqual([400, { code: 'BadActionRequest', description: 'Invalid JSON' }]);
    const wrongType = await as(creator).run({ request_id: rid(), body: { input_string: 42 } });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.code).toBe('RequestValidationError');
    expect(wrongType.body.description).toMatch(/^Field '\$\.input_string' \(category: 'type'\)/);
    expect(wrongType.body.description).not.toContain('42');
    const method = await raw('GET', '/run', { token: creator });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toContain('POST');
    expect(method.body.code).toBe('MethodNotAllowed');
    const unknown = await raw('GET', '/a/b/c/d', { token: creator });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ActionNotFound']);
    expect(unknown.headers.get('content-type')).toMatch(/application\/json/);
    const preflight = await raw('OPTIONS', '/run');
    expect(preflight.status).toBe(204);
  });
}
