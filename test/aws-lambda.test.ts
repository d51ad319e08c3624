/**
 * @module test/aws-lambda: the Lambda handler invoked as the Lambda runtime invokes it, with
 * events made from the fixtures of every source (REST API, HTTP API payload 1.0 and 2.0, named
 * stages, Function URL, ALB with and without multi-value headers) and a context object: the
 * Action Provider flows, the request the provider sees (URL, stage, prefix, query, headers,
 * cookies, bodies), the result shape each source reads, hostile events, and what the handler
 * does with Lambda's context (the deadline, work after the answer).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LambdaHttpEvent, type LambdaOptions, lambdaHandler } from '../adapters/aws-lambda.ts';
import type { FetchProvider } from '../adapters/contract.ts';
import { ActionError } from '../src/index.ts';
import type { ClientReply } from '../src/testing/index.ts';
import { rid } from './support/actions.ts';
import { expectActionStatus, expectError } from './support/assertions.ts';
import { mint, USERS, urn } from './support/identities.ts';
import {
  type Call,
  EVENT_KINDS,
  type EventKind,
  fixture,
  type LambdaReply,
  lambdaContext,
  lambdaEvent,
  REPLY,
  readResult,
} from './support/lambda.ts';
import { field, testProvider } from './support/providers.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const asReply = (reply: LambdaReply): ClientReply => ({ ...reply });

/** Invoke `handler` with `call` as `kind`'s source delivers it, and read the result back. */
async function invoke(
  handler: ReturnType<typeof lambdaHandler>,
  kind: EventKind,
  call: Call = {},
  context = lambdaContext(),
): Promise<LambdaReply> {
  return readResult(kind, await handler(lambdaEvent(kind, call), context));
}

/** A provider that answers with what it was asked: URL, method, headers, body bytes (base64), env. */
function echo(): FetchProvider & { env: unknown[] } {
  const env: unknown[] = [];
  return {
    env,
    async fetch(request: Request, e?: unknown) {
      env.push(e);
      const body = Buffer.from(await request.arrayBuffer()).toString('base64');
      return Response.json({ url: request.url, method: request.method, headers: [...request.headers], body });
    },
  };
}

const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

describe.each(EVENT_KINDS)('%s events', (kind) => {
  const handler = lambdaHandler(testProvider());

  it("introspects from the fixture as it is, in the source's result shape", async () => {
    const result = await handler(fixture(kind) as unknown as LambdaHttpEvent, lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(JSON.parse(result.body).title).toBe('Test provider');
    const shape = REPLY[kind];
    if (shape === 'alb-multi') {
      expect(result).not.toHaveProperty('headers');
      expect((result as { multiValueHeaders: unknown }).multiValueHeaders).toMatchObject({
        'content-type': ['application/json'],
      });
    } else {
      expect(result).not.toHaveProperty('multiValueHeaders');
      expect((result as { headers: unknown }).headers).toMatchObject({ 'content-type': 'application/json' });
    }
    expect(result).not.toHaveProperty('cookies');
    expect(readResult(kind, result).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('runs with a JSON body, then answers status, cancel and release on the legacy routes', async () => {
    const token = await mint(USERS.creator);
    const request_id = rid();
    const body = JSON.stringify({ request_id, body: { x: 1 }, monitor_by: [urn(USERS.monitor)] });
    const run = await invoke(handler, kind, { method: 'POST', path: '/run', headers: json(token), body });
    expect(run.status, run.text).toBe(202);
    expectActionStatus(run.body);
    expect(run.body).toMatchObject({ status: 'ACTIVE', details: { got: { x: 1 } }, creator_id: urn(USERS.creator) });
    const id = run.body.action_id as string;
    const auth = { authorization: `Bearer ${token}` };
    const status = await invoke(handler, kind, { path: `/${id}/status`, headers: auth });
    expect([status.status, status.body]).toEqual([200, run.body]);
    const cancel = await invoke(handler, kind, { method: 'POST', path: `/${id}/cancel`, headers: auth });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ action_id: id, status: 'FAILED', display_status: 'Canceled' });
    const release = await invoke(handler, kind, { method: 'POST', path: `/${id}/release`, headers: auth });
    expect([release.status, release.body.action_id]).toEqual([200, id]);
    const gone = await invoke(handler, kind, { path: `/${id}/status`, headers: auth });
    expectError(asReply(gone), 404, 'ActionNotFound');
  });

  it('runs with a base64 body on the /actions routes, enumerates, and releases with DELETE', async () => {
    const token = await mint(USERS.creator);
    const auth = { authorization: `Bearer ${token}` };
    const body = JSON.stringify({ request_id: rid(), body: { word: 'grüße' } });
    const run = await invoke(handler, kind, {
      method: 'POST',
      path: '/actions',
      headers: json(token),
      body,
      base64: true,
    });
    expect(run.status, run.text).toBe(202);
    expect(run.body.details).toEqual({ got: { word: 'grüße' } });
    const id = run.body.action_id as string;
    const listed = await invoke(handler, kind, { path: '/actions', query: 'status=active%2Cfailed', headers: auth });
    expect(listed.status).toBe(200);
    expect(listed.body.map((action: { action_id: string }) => action.action_id)).toContain(id);
    const status = await invoke(handler, kind, { path: `/actions/${id}`, headers: auth });
    expect(status.body.action_id).toBe(id);
    await invoke(handler, kind, { method: 'POST', path: `/actions/${id}/cancel`, headers: auth });
    const release = await invoke(handler, kind, { method: 'DELETE', path: `/actions/${id}`, headers: auth });
    expect(release.status).toBe(200);
  });

  it("keeps the provider's headers: WWW-Authenticate on 401, Allow on 405, Retry-After on 503", async () => {
    const anonymous = await invoke(handler, kind, { path: '/actions' });
    expectError(asReply(anonymous), 401, 'UnauthorizedRequest');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await invoke(handler, kind, { method: 'PUT', path: '/run' });
    expectError(asReply(wrong), 405, 'MethodNotAllowed');
    expect(wrong.headers.get('allow')).toBe('POST, OPTIONS');
    const busy = lambdaHandler(
      testProvider({
        run: () => {
          throw new ActionError('ServiceUnavailable', 'Busy', { headers: { 'retry-after': '7' } });
        },
      }),
    );
    const token = await mint(USERS.creator);
    const body = JSON.stringify({ request_id: rid(), body: {} });
    const refused = await invoke(busy, kind, { method: 'POST', path: '/run', headers: json(token), body });
    expectError(asReply(refused), 503, 'ServiceUnavailable');
    expect(refused.headers.get('retry-after')).toBe('7');
  });

  it('gives the provider the URL the client asked for: host, scheme, path under the stage, query', async () => {
    const provider = echo();
    const reply = await invoke(lambdaHandler(provider), kind, {
      path: '/actions/a%20b',
      query: 'q=a%20b&q=c%26d&empty=',
      headers: { host: 'ap.example.org', 'x-forwarded-proto': kind === 'alb-multi-value' ? 'http' : 'https' },
    });
    const url = new URL(reply.body.url);
    expect(url.origin).toBe(kind === 'alb-multi-value' ? 'http://ap.example.org' : 'https://ap.example.org');
    expect(url.pathname).toBe('/actions/a%20b');
    // A single-value ALB passes the last of repeated parameters; every other source all of them.
    expect(url.searchParams.getAll('q')).toEqual(kind === 'alb' ? ['c&d'] : ['a b', 'c&d']);
    expect(url.searchParams.get('empty')).toBe('');
    expect(provider.env[0]).toMatchObject({ event: expect.any(Object), lambdaContext: expect.any(Object) });
  });

  it('passes repeated headers, cookies and binary bodies through intact, with their true length', async () => {
    const provider = echo();
    const bytes = new Uint8Array([0, 255, 254, 10, 13, 0x80]);
    const reply = await invoke(lambdaHandler(provider), kind, {
      method: 'POST',
      path: '/run',
      headers: { 'X-Repeated': ['one', 'two'], cookie: 'a=1; b=2', 'content-length': '999' },
      body: bytes,
    });
    const headers = new Headers(reply.body.headers);
    // Payload 2.0 joins repeats with commas; a single-value ALB keeps the last.
    const repeated = { v1: 'one, two', 'alb-multi': 'one, two', v2: 'one,two', alb: 'two' }[REPLY[kind]];
    expect(headers.get('x-repeated')).toBe(repeated);
    expect(headers.get('cookie')).toBe('a=1; b=2');
    expect(headers.get('content-length')).toBe(String(bytes.length));
    expect(new Uint8Array(Buffer.from(reply.body.body, 'base64'))).toEqual(bytes);
  });
});

describe('result shapes', () => {
  const answering = (response: () => Response) => lambdaHandler({ fetch: response });

  it('writes Set-Cookie as cookies (payload 2.0), multiValueHeaders (payload 1.0, ALB) or one header (single-value ALB)', async () => {
    const handler = answering(() => {
      const headers = new Headers({ 'content-type': 'text/plain; charset=utf-8', vary: 'origin' });
      headers.append('vary', 'accept');
      headers.append('set-cookie', 'a=1; Secure');
      headers.append('set-cookie', 'b=2; HttpOnly');
      return new Response('hi', { headers });
    });
    const at = async (kind: EventKind) => handler(lambdaEvent(kind));
    expect(await at('http-api-v2')).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', vary: 'origin, accept' },
      cookies: ['a=1; Secure', 'b=2; HttpOnly'],
      body: 'hi',
      isBase64Encoded: false,
    });
    expect(await at('rest-api')).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', vary: 'origin, accept' },
      multiValueHeaders: { 'set-cookie': ['a=1; Secure', 'b=2; HttpOnly'] },
      body: 'hi',
      isBase64Encoded: false,
    });
    expect(await at('alb-multi-value')).toEqual({
      statusCode: 200,
      multiValueHeaders: {
        'content-type': ['text/plain; charset=utf-8'],
        vary: ['origin, accept'],
        'set-cookie': ['a=1; Secure', 'b=2; HttpOnly'],
      },
      body: 'hi',
      isBase64Encoded: false,
    });
    expect(await at('alb')).toMatchObject({ headers: { 'set-cookie': 'a=1; Secure' } });
  });

  it('base64-encodes only a body that is not UTF-8, and keeps every byte (a BOM too)', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]);
    const binary = await answering(() => new Response(png, { headers: { 'content-type': 'image/png' } }))(
      lambdaEvent('function-url'),
    );
    expect(binary.isBase64Encoded).toBe(true);
    expect(new Uint8Array(Buffer.from(binary.body, 'base64'))).toEqual(png);
    const bom = await answering(() => new Response('\ufeff{"a":1}'))(lambdaEvent('http-api-v2'));
    expect([bom.isBase64Encoded, bom.body]).toEqual([false, '\ufeff{"a":1}']);
    const empty = await answering(() => new Response(null, { status: 204 }))(lambdaEvent('rest-api'));
    expect([empty.statusCode, empty.body, empty.isBase64Encoded]).toEqual([204, '', false]);
  });

  it('answers HEAD with the headers of GET and an empty body', async () => {
    const result = await lambdaHandler(testProvider())(lambdaEvent('http-api-v2', { method: 'HEAD' }));
    expect([result.statusCode, result.body]).toEqual([200, '']);
    expect(result.headers?.['content-type']).toBe('application/json');
  });
});

describe('stages and prefixes', () => {
  const paths = (options: LambdaOptions = {}) => {
    const handler = lambdaHandler(echo(), options);
    return async (event: Record<string, unknown>) =>
      new URL(JSON.parse((await handler(event as unknown as LambdaHttpEvent)).body).url).pathname;
  };

  it("drops an HTTP API's named stage where the path has it, and only there", async () => {
    const path = paths();
    const v2 = fixture('http-api-v2-stage');
    expect(await path({ ...v2, rawPath: '/live/actions' })).toBe('/actions');
    expect(await path({ ...v2, rawPath: '/live' })).toBe('/');
    // Through a custom domain's API mapping the stage is not in the path.
    expect(await path({ ...v2, rawPath: '/actions' })).toBe('/actions');
    expect(await path({ ...v2, rawPath: '/lively/run' })).toBe('/lively/run');
    const v1 = fixture('http-api-v1');
    expect(await path({ ...v1, path: '/live/run' })).toBe('/run');
  });

  it("never strips a REST API's path (it comes without the stage), nor any with stripStage: false", async () => {
    const rest = fixture('rest-api');
    const context = rest['requestContext'] as Record<string, unknown>;
    // A stage named like a route: REST's path /actions is the route, not the stage.
    const named = { ...rest, path: '/actions', requestContext: { ...context, stage: 'actions' } };
    expect(await paths()(named)).toBe('/actions');
    expect(await paths({ stripStage: false })({ ...fixture('http-api-v2-stage'), rawPath: '/live/run' })).toBe(
      '/live/run',
    );
  });

  it("serves under a custom domain's base path with prefix, and answers the JSON 404 outside it", async () => {
    const handler = lambdaHandler(testProvider(), { prefix: '/tools/echo' });
    const rest = fixture('rest-api');
    const context = { ...(rest['requestContext'] as object), domainName: 'api.example.org', path: '/tools/echo/' };
    const served = await handler({ ...rest, path: '/tools/echo/', requestContext: context } as LambdaHttpEvent);
    expect(JSON.parse(served.body).title).toBe('Test provider');
    const outside = await handler({ ...rest, path: '/other/' } as LambdaHttpEvent);
    expect([outside.statusCode, JSON.parse(outside.body).code]).toEqual([404, 'ActionNotFound']);
  });
});

describe('hostile events', () => {
  const handler = lambdaHandler(testProvider());
  const v2 = () => fixture('http-api-v2');
  const rest = () => fixture('rest-api');
  const refusal = async (event: Record<string, unknown>, description?: RegExp) => {
    const result = await handler(event as unknown as LambdaHttpEvent);
    expect(Object.keys(result).sort()).toEqual(['body', 'headers', 'isBase64Encoded', 'statusCode']);
    const reply = readResult('http-api-v2', result);
    expectError(asReply(reply), 400, 'BadActionRequest', description);
    return reply;
  };

  it.each([
    ['null', null],
    ['a string', 'GET /'],
    ['a list', [{ httpMethod: 'GET' }]],
    ['an empty object', {}],
    ['an SQS batch', { Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: '{}' }] }],
    ['an S3 notification', { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'b' } } }] }],
    ['an EventBridge schedule', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }],
    ['a WebSocket connect', { requestContext: { eventType: 'CONNECT', routeKey: '$connect' }, isBase64Encoded: false }],
  ])('rejects %s (no HTTP event) with a TypeError, so the invocation fails visibly', async (_name, event) => {
    await expect(handler(event as unknown as LambdaHttpEvent)).rejects.toThrow(TypeError);
    await expect(handler(event as unknown as LambdaHttpEvent)).rejects.toThrow(
      /not an API Gateway, Function URL or ALB/,
    );
  });

  it('answers a payload 2.0 event without its requestContext with the JSON 400', async () => {
    const { requestContext: _, ...event } = v2();
    await refusal(event, /requestContext\.http\.method/);
    await refusal({ ...v2(), requestContext: { http: {} } }, /requestContext\.http\.method/);
  });

  it('serves a REST event without requestContext (its path and method are all it needs)', async () => {
    const { requestContext: _, ...event } = rest();
    expect((await handler(event as unknown as LambdaHttpEvent)).statusCode).toBe(200);
  });

  it('answers missing or odd paths, methods and hosts with the JSON 400', async () => {
    await refusal({ ...v2(), rawPath: undefined }, /rawPath/);
    await refusal({ ...v2(), rawPath: 'run' }, /rawPath/);
    await refusal({ ...rest(), path: 42 }, /path/);
    await refusal({ ...rest(), httpMethod: '' }, /httpMethod/);
    await refusal({ ...rest(), httpMethod: 'GET / HTTP/1.1' }, /unsupported httpMethod/);
    await refusal({ ...rest(), httpMethod: 'TRACE' }, /unsupported httpMethod/);
    for (const host of ['a b', 'user@evil.example', 'h/../x', 'h?x', '[bad']) {
      await refusal({ ...v2(), headers: { host } }, /Invalid Host header/);
    }
    await refusal({ ...v2(), rawQueryString: 5 }, /rawQueryString/);
  });

  it('answers a body flagged base64 that is not, or a body that is no string, with the JSON 400', async () => {
    const post = { ...v2(), requestContext: { ...(v2()['requestContext'] as object), http: { method: 'POST' } } };
    await refusal({ ...post, body: '{"request_id":"x"}', isBase64Encoded: true }, /not base64/);
    await refusal({ ...post, body: 'eyJh Yi', isBase64Encoded: true }, /not base64/);
    for (const body of ['eyJhIjox=', 'eyJhIj=x', 'eyJhI===', 'eyJhIjo', '====']) {
      await refusal({ ...post, body, isBase64Encoded: true }, /not base64/);
    }
    await refusal({ ...post, body: 'eyJhIjox', isBase64Encoded: 'true' }, /isBase64Encoded must be a boolean/);
    await refusal({ ...post, body: { request_id: 'x' } }, /body must be a string/);
  });

  it('decodes a base64 body as large as Lambda carries, and answers one past the body limit with the 413', async () => {
    const token = await mint(USERS.creator);
    // A REST API with binary media types `*/*` base64-encodes every body: 4.5 MB of JSON is 6 MB
    // of event, Lambda's cap for a synchronous invocation.
    const padding = 'x'.repeat(4.5 * 1024 * 1024);
    const body = JSON.stringify({ request_id: rid(), body: { padding } });
    const sized = lambdaHandler(
      testProvider({
        run: ({ request }) => ({ status: 'ACTIVE', details: { same: field(request.body, 'padding') === padding } }),
      }),
    );
    const run = await invoke(sized, 'rest-api', {
      method: 'POST',
      path: '/run',
      headers: json(token),
      body,
      base64: true,
    });
    expect(run.status, run.text).toBe(202);
    expect(run.body.details).toEqual({ same: true });
    // A hand-made event past the provider's 10 MiB limit gets the provider's own answer.
    const huge = await invoke(sized, 'http-api-v2', {
      method: 'POST',
      path: '/run',
      headers: json(token),
      body: 'x'.repeat(11 * 1024 * 1024),
      base64: true,
    });
    expectError(asReply(huge), 413, 'PayloadTooLarge');
  });

  it('answers enormous, malformed or mistyped headers with the JSON 400, before the provider runs', async () => {
    const seen: Request[] = [];
    const guarded = lambdaHandler({
      fetch: (request) => {
        seen.push(request);
        return new Response('{}');
      },
    });
    const refused = async (event: Record<string, unknown>, description: RegExp) => {
      const reply = readResult('http-api-v2', await guarded(event as unknown as LambdaHttpEvent));
      expectError(asReply(reply), 400, 'BadActionRequest', description);
    };
    await refused({ ...v2(), headers: { 'x-pad': 'a'.repeat(70_000) } }, /headers are over 64 kB/);
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-${i}`, 'a'.repeat(20)]));
    await refused({ ...v2(), headers: many }, /headers are over 64 kB/);
    await refused({ ...v2(), cookies: ['a'.repeat(70_000)] }, /headers are over 64 kB/);
    await refused({ ...v2(), headers: { 'bad name': 'x' } }, /Invalid header name/);
    await refused({ ...v2(), headers: { x: 'a\r\nInjected: yes' } }, /control character/);
    await refused({ ...v2(), headers: { x: 'a\u0001b' } }, /control character/);
    await refused({ ...v2(), headers: { x: 5 } }, /headers values must be strings/);
    await refused({ ...v2(), headers: 'host: x' }, /headers must be an object/);
    await refused({ ...v2(), cookies: 'a=1' }, /cookies must be a list of strings/);
    await refused({ ...rest(), multiValueHeaders: { x: 'a' } }, /multiValueHeaders values must be lists/);
    await refused({ ...rest(), multiValueQueryStringParameters: { q: [1] } }, /lists of strings/);
    expect(seen).toEqual([]);
  });

  it('passes a header past ASCII as its UTF-8 bytes, as node:http would read it off the wire', async () => {
    const reply = await lambdaHandler(echo())({
      ...v2(),
      headers: { 'x-name': 'José €' },
    } as unknown as LambdaHttpEvent);
    const value = new Headers(JSON.parse(reply.body).headers).get('x-name') as string;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('José €');
  });

  it('answers a throw past the provider, or a body that fails mid-way, with the generic JSON 500, logged', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const throwing = lambdaHandler({
      fetch: () => {
        throw new Error('boom');
      },
    });
    const thrown = readResult('rest-api', await throwing(lambdaEvent('rest-api')));
    expectError(asReply(thrown), 500, 'ActionProviderError', 'Internal Server Error');
    const broken = new ReadableStream({
      start: (controller) => controller.error(new Error('stream broke')),
    });
    const failing = lambdaHandler({ fetch: () => new Response(broken) });
    const cut = readResult('http-api-v2', await failing(lambdaEvent('http-api-v2')));
    expectError(asReply(cut), 500, 'ActionProviderError');
    expect(logged).toHaveBeenCalledTimes(2);
    expect(JSON.stringify(thrown.body)).not.toContain('boom');
  });
});

describe("Lambda's context", () => {
  it("aborts the request's signal shortly before the invocation's deadline, and leaves no timer behind", async () => {
    let signal: AbortSignal | undefined;
    const waiting = lambdaHandler({
      fetch: (request) =>
        new Promise<Response>((resolve) => {
          signal = request.signal;
          request.signal.addEventListener('abort', () =>
            resolve(Response.json({ reason: request.signal.reason.name })),
          );
        }),
    });
    const started = Date.now();
    const timedOut = await waiting(lambdaEvent('function-url'), lambdaContext(700));
    expect(JSON.parse(timedOut.body)).toEqual({ reason: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(600);
    // Answered in time: the deadline's timer is cleared with the answer.
    let quick: AbortSignal | undefined;
    const answering = lambdaHandler({
      fetch: (request) => {
        quick = request.signal;
        return Response.json({});
      },
    });
    await answering(lambdaEvent('function-url'), lambdaContext(550));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(quick?.aborted).toBe(false);
    expect(signal?.aborted).toBe(true);
  });

  it('answers without a context, or with one that has no deadline', async () => {
    const handler = lambdaHandler(testProvider());
    expect((await handler(lambdaEvent('http-api-v2'))).statusCode).toBe(200);
    expect((await handler(lambdaEvent('http-api-v2'), { awsRequestId: 'x' })).statusCode).toBe(200);
  });

  it('answers without waiting for waitUntil work, and warns once per instance that it freezes', async () => {
    const warnings = vi.spyOn(console, 'error').mockImplementation(() => {});
    let finished = false;
    const handler = lambdaHandler(
      testProvider({
        run: ({ waitUntil }) => {
          waitUntil(new Promise((resolve) => setTimeout(resolve, 300)).then(() => (finished = true)));
          return { status: 'ACTIVE' };
        },
      }),
    );
    const token = await mint(USERS.creator);
    for (let i = 0; i < 2; i++) {
      const body = JSON.stringify({ request_id: rid(), body: {} });
      const result = await handler(
        lambdaEvent('http-api-v2', { method: 'POST', path: '/run', headers: json(token), body }),
      );
      expect(result.statusCode).toBe(202);
    }
    expect(finished).toBe(false);
    const lines = warnings.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^waitUntil on AWS Lambda/) }),
    ]);
  });
});

describe('options', () => {
  it('are checked when the handler is made', () => {
    const provider = testProvider();
    expect(() => lambdaHandler({} as FetchProvider)).toThrow(/provider must have a fetch method/);
    expect(() => lambdaHandler(provider, null as unknown as LambdaOptions)).toThrow(TypeError);
    expect(() => lambdaHandler(provider, { stripStage: 'no' as unknown as boolean })).toThrow(
      /^lambdaHandler: stripStage must be a boolean/,
    );
    expect(() => lambdaHandler(provider, { prefix: '/p?x' })).toThrow(/^prefix: /);
  });
});
