/**
 * @module test/routing: JSON 405 and 404 answers, and CORS preflights without a token. Methods
 * and paths no client sends, so the requests are raw.
 */
import { describe, expect, it } from 'vitest';
import { start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('routing ($name)', (transport) => {
  it.each([
    ['GET', '/run', ['POST', 'OPTIONS']],
    ['DELETE', '/run', ['POST', 'OPTIONS']],
    ['PUT', '/run', ['POST', 'OPTIONS']],
    ['PUT', '/actions/some-id', ['GET', 'DELETE', 'HEAD', 'OPTIONS']],
    ['POST', '/actions/some-id', ['GET', 'DELETE', 'HEAD', 'OPTIONS']],
    ['PATCH', '/actions', ['GET', 'POST', 'HEAD', 'OPTIONS']],
    ['DELETE', '/actions', ['GET', 'POST', 'HEAD', 'OPTIONS']],
    ['GET', '/actions/some-id/cancel', ['POST', 'OPTIONS']],
    ['GET', '/some-id/cancel', ['POST', 'OPTIONS']],
    ['GET', '/some-id/release', ['POST', 'OPTIONS']],
    ['DELETE', '/some-id/status', ['GET', 'HEAD', 'OPTIONS']],
    ['POST', '/some-id/log', ['GET', 'HEAD', 'OPTIONS']],
    ['POST', '/', ['GET', 'HEAD', 'OPTIONS']],
  ])('%s %s → 405 MethodNotAllowed with Allow', async (method, path, allowed) => {
    const { raw } = await connect(transport, testProvider());
    for (const token of [undefined, T.creator]) {
      const reply = await raw(method, path, token === undefined ? {} : { token });
      expectError(reply, 405, 'MethodNotAllowed');
      const allow = reply.headers.get('allow');
      expect(allow, 'Allow header').not.toBeNull();
      expect(allow?.split(/,\s*/).sort()).toEqual([...allowed].sort());
      expect(allow?.split(/,\s*/)).not.toContain(method);
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('a wrong method on an existing action leaves it alone', async () => {
    const connection = await connect(transport, testProvider());
    const action = await start(connection.client(T.creator));
    expectError(
      await connection.raw('PUT', `/actions/${action.action_id}`, { token: T.creator, body: { status: 'SUCCEEDED' } }),
      405,
      'MethodNotAllowed',
    );
    const after = await connection.client(T.creator, 'actions').status(action.action_id);
    expect(after.body).toEqual(action);
  });

  it.each([
    ['GET', '/nothing-here'],
    ['GET', '/some-id/unknown'],
    ['POST', '/some-id/explode'],
    ['GET', '/actions/some-id/unknown'],
    ['GET', '/a/b/c/d'],
    ['DELETE', '/some-id'],
  ])('%s %s (unknown path) → 404 JSON ActionNotFound', async (method, path) => {
    const { raw } = await connect(transport, testProvider());
    for (const token of [undefined, T.creator]) {
      const reply = await raw(method, path, token === undefined ? {} : { token });
      expectError(reply, 404, 'ActionNotFound');
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it.each([
    ['/run', 'POST'],
    ['/actions', 'GET'],
    ['/actions/x', 'DELETE'],
    ['/actions/x/cancel', 'POST'],
    ['/actions/x/release', 'POST'],
    ['/actions/x/resume', 'POST'],
    ['/actions/x/log', 'GET'],
    ['/x/status', 'GET'],
    ['/x/cancel', 'POST'],
    ['/x/release', 'POST'],
    ['/x/resume', 'POST'],
    ['/x/log', 'GET'],
  ])('OPTIONS %s → 204 preflight without a token', async (path, method) => {
    const { raw } = await connect(transport, testProvider());
    const reply = await raw('OPTIONS', path, {
      headers: {
        origin: 'https://app.globus.org',
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(reply.status, reply.text).toBe(204);
    expect(reply.text).toBe('');
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.headers.get('access-control-allow-methods')?.split(/,\s*/)).toContain(method);
    expect(reply.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(reply.headers.get('www-authenticate')).toBeNull();
  });
});
