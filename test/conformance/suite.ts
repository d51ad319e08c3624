/**
 * @module test/conformance/suite: one runtime-agnostic suite. It takes a base URL and drives a
 * running echo provider over HTTP: introspection, run, idempotent rerun, status, cancel,
 * release, log, enumerate, errors and authorization. Every host runs exactly this.
 */
import { expect, it } from 'vitest';
import { type Call, caller, mint, rid, USERS, urn } from '../helpers.ts';

export function conformanceSuite(baseUrl: () => string): void {
  const call: Call = (method, path, options) => caller(baseUrl())(method, path, options);
  let creator: string;
  let monitor: string;
  let stranger: string;
  const start = async (extra: Record<string, unknown> = {}, token?: string) => {
    creator ??= await mint(USERS.creator, { identitySet: [USERS.creator, USERS.creatorLinked] });
    monitor ??= await mint(USERS.monitor);
    stranger ??= await mint(USERS.stranger);
    const request = { request_id: rid(), body: { input_string: 'hello' }, ...extra };
    const reply = await call('POST', '/run', { token: token ?? creator, body: request });
    return { request, reply };
  };

  it('introspects with and without the trailing slash, HEAD and OPTIONS', async () => {
    for (const path of ['/', '']) {
      const reply = await caller(baseUrl().replace(/\/$/, ''))('GET', path);
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({
        title: 'Echo',
        types: ['ACTION'],
        api_version: '1.0',
        synchronous: true,
        log_supported: true,
      });
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    }
    expect((await call('HEAD', '/')).status).toBe(200);
    const options = await call('OPTIONS', '/');
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
  });

  it('runs, and an identical rerun answers 200 with the same action; a different one 409', async () => {
    const { request, reply } = await start();
    expect(reply.status).toBe(202);
    expect(reply.json).toMatchObject({
      status: 'SUCCEEDED',
      details: { you_said: 'hello' },
      creator_id: urn(USERS.creator),
    });
    expect(reply.json.completion_time).toMatch(/\+00:00$/);
    const again = await call('POST', '/actions', { token: creator, body: request });
    expect(again.status).toBe(200);
    expect(again.json.action_id).toBe(reply.json.action_id);
    const changed = await call('POST', '/run', {
      token: creator,
      body: { ...request, body: { input_string: 'other' } },
    });
    expect(changed.status).toBe(409);
    expect(changed.json.code).toBe('ActionConflict');
  });

  it('answers status on both route families, to the creator and a linked identity', async () => {
    const { reply } = await start();
    const id = reply.json.action_id as string;
    for (const path of [`/${id}/status`, `/actions/${id}`]) {
      const status = await call('GET', path, { token: creator });
      expect(status.status).toBe(200);
      expect(status.json).toEqual(reply.json);
    }
    // Globus gives every linked identity's token the same identity_set.
    const linked = await mint(USERS.creatorLinked, { identitySet: [USERS.creatorLinked, USERS.creator] });
    expect((await call('GET', `/${id}/status`, { token: linked })).status).toBe(200);
  });

  it('cancel returns a completed action unchanged; release deletes it and frees its request_id', async () => {
    const { request, reply } = await start();
    const id = reply.json.action_id as string;
    const cancel = await call('POST', `/${id}/cancel`, { token: creator });
    expect(cancel.status).toBe(200);
    expect(cancel.json).toEqual(reply.json);
    const release = await call('DELETE', `/actions/${id}`, { token: creator });
    expect(release.status).toBe(200);
    expect(release.json.action_id).toBe(id);
    expect((await call('GET', `/${id}/status`, { token: creator })).status).toBe(404);
    const rerun = await call('POST', '/run', { token: creator, body: request });
    expect(rerun.status).toBe(202);
    expect(rerun.json.action_id).not.toBe(id);
  });

  it("serves the log and enumerates the caller's actions", async () => {
    const { reply } = await start();
    const id = reply.json.action_id as string;
    const log = await call('GET', `/actions/${id}/log?limit=5`, { token: creator });
    expect(log.status).toBe(200);
    expect(log.json).toMatchObject({ has_next_page: false, limit: 5, marker: null });
    expect(log.json.entries[0].message).toBe('Echoed "hello"');
    const listed = await call('GET', '/actions?status=succeeded', { token: creator });
    expect(listed.status).toBe(200);
    expect(listed.json.map((a: { action_id: string }) => a.action_id)).toContain(id);
    const strangers = await call('GET', '/actions?status=succeeded', { token: stranger });
    expect(strangers.json.map((a: { action_id: string }) => a.action_id)).not.toContain(id);
  });

  it('authorizes: monitor may look, not manage; a stranger sees nothing; no token is 401', async () => {
    const { reply } = await start({ monitor_by: [urn(USERS.monitor)] });
    const id = reply.json.action_id as string;
    expect((await call('GET', `/${id}/status`, { token: monitor })).status).toBe(200);
    const cancel = await call('POST', `/${id}/cancel`, { token: monitor });
    expect(cancel.status).toBe(403);
    expect(cancel.json.code).toBe('ForbiddenRequest');
    const hidden = await call('GET', `/${id}/status`, { token: stranger });
    const unknown = await call('GET', '/no-such-action/status', { token: stranger });
    expect(hidden.status).toBe(404);
    expect(hidden.text).toBe(unknown.text.replace('no-such-action', id));
    const anonymous = await call('GET', `/${id}/status`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe('UnauthorizedRequest');
  });

  it("answers bad input and bad routes with the contract's JSON errors", async () => {
    creator ??= await mint(USERS.creator);
    const invalid = await call('POST', '/run', { token: creator, raw: '{not json' });
    expect([invalid.status, invalid.json]).toEqual([400, { code: 'BadActionRequest', description: 'Invalid JSON' }]);
    const wrongType = await call('POST', '/run', {
      token: creator,
      body: { request_id: rid(), body: { input_string: 42 } },
    });
    expect(wrongType.status).toBe(422);
    expect(wrongType.json.code).toBe('RequestValidationError');
    expect(wrongType.json.description).toMatch(/^Field '\$\.input_string' \(category: 'type'\)/);
    expect(wrongType.json.description).not.toContain('42');
    const method = await call('GET', '/run', { token: creator });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toContain('POST');
    expect(method.json.code).toBe('MethodNotAllowed');
    const unknown = await call('GET', '/a/b/c/d', { token: creator });
    expect([unknown.status, unknown.json.code]).toEqual([404, 'ActionNotFound']);
    expect(unknown.headers.get('content-type')).toMatch(/application\/json/);
    const preflight = await call('OPTIONS', '/run');
    expect(preflight.status).toBe(204);
  });
}
