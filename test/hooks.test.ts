/**
 * @module test/hooks: the `hooks` option over real HTTP: each hook's payload for each kind of
 * request (operations, 404, 405, preflight), headers they add, async hooks, a hook's refusal,
 * a failing hook, and the checks at creation; and `provider.app.use()` saying it cannot work.
 */
import { Hono } from 'hono';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ActionError,
  createActionProvider,
  type ErrorInfo,
  type ProviderOptions,
  type RequestHooks,
  type RequestInfo,
  type ResponseInfo,
} from '../src/index.ts';
import { rid } from './support/actions.ts';
import { mint, testAuth, USERS, urn } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { description } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { listen } from './support/transports.ts';

interface Seen {
  hook: string;
  info: RequestInfo | ResponseInfo | ErrorInfo;
}

async function served(hooks: RequestHooks, options: Partial<ProviderOptions> = {}, prefix?: string) {
  const logger = captureLogger();
  const provider = createActionProvider({
    description: description(),
    auth: testAuth(),
    logger,
    run: ({ request }) => ({ status: 'ACTIVE', details: { got: request.body } }),
    ...options,
    hooks,
  } as ProviderOptions);
  const server = await listen(provider, prefix);
  onTestFinished(() => server.close());
  return { logger, raw: rawCaller(server.url), provider };
}

function recording(): { seen: Seen[]; hooks: RequestHooks } {
  const seen: Seen[] = [];
  return {
    seen,
    hooks: {
      onRequest: (info) => void seen.push({ hook: 'onRequest', info }),
      onError: (info) => void seen.push({ hook: 'onError', info }),
      onResponse: (info) => void seen.push({ hook: 'onResponse', info }),
    },
  };
}

describe('hooks', () => {
  it('see every request with its operation, route, action, caller, status and duration', async () => {
    const { seen, hooks } = recording();
    const { raw } = await served(hooks, {}, '/ap');
    const token = await mint(USERS.creator);
    const run = await raw('POST', '/run', { token, body: { request_id: rid(), body: {} } });
    const actionId = (run.body as { action_id: string }).action_id;
    expect(seen.map((s) => s.hook)).toEqual(['onRequest', 'onResponse']);
    expect(seen[0]?.info).toMatchObject({ operation: 'run', route: '/ap/run', actionId: undefined });
    expect(seen[0]?.info.requestId).toBe(run.headers.get('x-request-id'));
    expect(seen[1]?.info).toMatchObject({
      operation: 'run',
      actionId,
      status: 202,
      identity: urn(USERS.creator),
      code: undefined,
      durationMs: expect.any(Number),
    });
    seen.length = 0;
    await raw('GET', `/${actionId}/status`, { token });
    expect(seen.map((s) => [s.hook, s.info.operation, s.info.route, s.info.actionId])).toEqual([
      ['onRequest', 'status', '/ap/:id/status', actionId],
      ['onResponse', 'status', '/ap/:id/status', actionId],
    ]);
    seen.length = 0;
    await raw('GET', '/actions/unknown-id', { token });
    await raw('DELETE', '/run');
    await raw('OPTIONS', '/actions/x/cancel');
    expect(
      seen.map((s) => [
        s.hook,
        s.info.operation ?? null,
        (s.info as ResponseInfo).status ?? null,
        (s.info as ResponseInfo).code ?? null,
      ]),
    ).toEqual([
      ['onRequest', 'status', null, null],
      ['onError', 'status', 404, 'ActionNotFound'],
      ['onResponse', 'status', 404, 'ActionNotFound'],
      ['onRequest', null, null, null],
      ['onResponse', null, 405, null],
      ['onRequest', 'preflight', null, null],
      ['onResponse', 'preflight', 204, null],
    ]);
    expect((seen[1]?.info as ErrorInfo | undefined)?.error).toBeInstanceOf(ActionError);
  });

  it("add response headers, from every hook, sync or async; the request id stays the provider's", async () => {
    const { raw } = await served({
      onRequest: () => ({ headers: { 'x-from-request': '1' } }),
      onError: async () => ({ headers: { 'x-from-error': '1' } }),
      onResponse: async ({ durationMs }) => ({
        headers: { 'server-timing': `ap;dur=${durationMs}`, 'x-request-id': 'forged' },
      }),
    });
    const ok = await raw('GET', '/');
    expect(ok.headers.get('x-from-request')).toBe('1');
    expect(ok.headers.get('x-from-error')).toBeNull();
    expect(ok.headers.get('server-timing')).toMatch(/^ap;dur=/);
    expect(ok.headers.get('x-request-id')).not.toBe('forged');
    const missing = await raw('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-from-error')).toBeNull(); // no route: nothing was thrown
    const refused = await raw('GET', '/actions/x');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-from-error')).toBe('1');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('onRequest may refuse a request with an ActionError; anything else it throws is a logged 500', async () => {
    let calls = 0;
    const { raw, logger } = await served({
      onRequest: ({ request }) => {
        if (request.headers.get('x-flood') !== null) throw new ActionError('ServiceUnavailable', 'Slow down');
        if (request.headers.get('x-bug') !== null) throw new Error('hook bug with detail');
      },
      onResponse: () => {
        calls++;
      },
    });
    const refused = await raw('GET', '/', { headers: { 'x-flood': '1' } });
    expect([refused.status, refused.body]).toEqual([503, { code: 'ServiceUnavailable', description: 'Slow down' }]);
    const broken = await raw('GET', '/', { headers: { 'x-bug': '1' } });
    expect(broken.status).toBe(500);
    expect(broken.text).not.toContain('hook bug');
    expect(
      logger.lines.some(
        (line) =>
          line.message === 'unhandled error' && line.fields?.['request_id'] === broken.headers.get('x-request-id'),
      ),
    ).toBe(true);
    expect(calls).toBe(2);
  });

  it('a failing onResponse or onError is logged once per cause, and the answer goes out as it was', async () => {
    const { raw, logger } = await served({
      onError: () => {
        throw new Error('error hook broke');
      },
      onResponse: () => ({ headers: 'not an object' }) as never,
    });
    for (let i = 0; i < 5; i++) {
      const reply = await raw('GET', '/actions/x');
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ code: 'UnauthorizedRequest', description: 'Missing or malformed bearer token' });
    }
    const failures = logger.lines.filter((line) => line.message.startsWith('the '));
    expect(failures.map((line) => line.message)).toEqual(['the onError hook failed', 'the onResponse hook failed']);
  });

  it("a header no HTTP answer may carry, from a hook, is the hook's logged failure, not a broken answer", async () => {
    const { raw, logger } = await served({
      onResponse: ({ request }) => ({
        headers: request.headers.has('x-name') ? { 'bad name': 'x' } : { 'x-split': 'a\r\nset-cookie: b' },
      }),
    });
    for (const headers of [{ 'x-name': '1' }, {}]) {
      const reply = await raw('GET', '/', { headers });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('set-cookie')).toBeNull();
    }
    expect(
      logger.lines
        .filter((line) => line.message === 'the onResponse hook failed')
        .map((line) => String((line.fields?.['error'] as { message?: string } | undefined)?.message)),
    ).toEqual([
      'a hook\'s header name "bad name" is not a valid header name',
      "a hook's header x-split has a value no header may carry",
    ]);
  });

  it('are checked when the provider is created', () => {
    const make = (hooks: unknown) => () =>
      createActionProvider({
        description: description(),
        auth: testAuth(),
        run: () => ({ status: 'SUCCEEDED' }),
        hooks: hooks as RequestHooks,
      });
    expect(make('x')).toThrow(/hooks: must be an object/);
    expect(make({ onRequest: 1 })).toThrow(/hooks.onRequest: must be a function/);
    expect(make({ beforeRequest: () => {} })).toThrow(/hooks: unknown hook "beforeRequest"/);
  });
});

describe('request ids', () => {
  it('made by the provider are 32 hex digits, each new, and two providers never share one', async () => {
    const make = () =>
      createActionProvider({
        description: description(),
        auth: testAuth(),
        run: () => ({ status: 'SUCCEEDED' }),
        logLevel: 'silent',
      });
    const [a, b] = [make(), make()];
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const provider of [a, b]) {
        const id = (await provider.fetch(new Request('http://x/'))).headers.get('x-request-id') as string;
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        ids.add(id);
      }
    }
    expect(ids.size).toBe(1000);
  });
});

describe('provider.app.use()', () => {
  it("throws, naming what works instead, and a host app's middleware wraps a mounted provider", async () => {
    const provider = createActionProvider({
      description: description(),
      auth: testAuth(),
      run: () => ({ status: 'SUCCEEDED' }),
      logLevel: 'silent',
    });
    expect(() => provider.app.use(async (_c, next) => next())).toThrow(
      /never runs; use the hooks option, or mount the provider in a host app/,
    );
    const host = new Hono();
    host.use(async (c, next) => {
      await next();
      c.res.headers.set('x-host', 'yes');
    });
    host.mount('/ap', provider.at('/ap'), { replaceRequest: false });
    const reply = await host.request('/ap/');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-host')).toBe('yes');
    expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
});
