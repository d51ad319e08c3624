/**
 * @module test/adapters-hostile: what the adapters answer to requests no well-behaved client
 * sends, as bytes over a real socket: always the provider's JSON, never an empty, text or HTML
 * page. Node: a bad or missing Host, backslash and absolute-form targets, malformed request
 * lines and headers, CONNECT, TRACE under a prefix, the timeouts and the connection cap, a
 * client cut off mid-body. Express: host body parsers answered as without them. Bun, Deno and
 * workerd: the same inputs where they reach our handler, and a throw past the provider.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import express, { type RequestHandler } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { expressMiddleware } from '../adapters/express.ts';
import { jsonClientErrors, nodeListener, type RunningServer, type ServeOptions, serve } from '../adapters/node.ts';
import type { ClientReply } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv, mint, SCOPE, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { BIN, type ProviderProcess, spawnHost } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { exchange, head, type WireReply } from './support/wire.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

/** A wire reply in the client's reply shape, for the shared assertions. */
const asReply = (reply: WireReply): ClientReply => ({ ...reply, headers: new Headers(reply.headers) });

/** The provider's JSON error, nothing of a page or a stack trace, and the connection closed after it. */
function expectJsonError(reply: WireReply, status: number, code: string): void {
  expectError(asReply(reply), status, code);
  expect(reply.text).not.toMatch(/<|\bat \S+:\d+/);
  expect(reply.closed).toBe(true);
}

const port = (url: string) => Number(new URL(url).port);

async function started(options: ServeOptions = {}, provider = testProvider()): Promise<RunningServer> {
  const server = await serve(provider, { port: 0, handleSignals: false, ...options });
  cleanup.push(() => {
    server.server.closeAllConnections();
    return server.close();
  });
  return server;
}

/** Requests node:http or @hono/node-server used to answer themselves, under `p` (a prefix or ''). */
const REJECTED: [string, (p: string) => string | Buffer, number, string][] = [
  ['a Host that makes no URL', (p) => head('GET', `${p}/`, { host: 'a b' }), 400, 'BadActionRequest'],
  ['a Host with user info', (p) => head('GET', `${p}/`, { host: 'user@evil.example' }), 400, 'BadActionRequest'],
  ['no Host', (p) => head('GET', `${p}/`, {}), 400, 'BadActionRequest'],
  ['a backslash in the path', (p) => head('GET', `${p}/x\\..\\y`), 400, 'BadActionRequest'],
  ['a target that starts with a backslash', () => head('GET', '\\x'), 400, 'BadActionRequest'],
  ['an absolute-form target that is no URL', (p) => head('GET', `http://[bad${p}/`), 400, 'BadActionRequest'],
  [
    'an absolute-form target of another scheme',
    (p) => head('GET', `ftp://provider.test${p}/`),
    400,
    'BadActionRequest',
  ],
  ['OPTIONS *', () => head('OPTIONS', '*'), 400, 'BadActionRequest'],
  ['a request line that is no HTTP', () => 'GARBAGE\r\n\r\n', 400, 'BadActionRequest'],
  ['a method node:http does not parse (TRACK)', (p) => head('TRACK', `${p}/`), 400, 'BadActionRequest'],
  ['a lower-case method', (p) => head('get', `${p}/`), 400, 'BadActionRequest'],
  ['a header name with a space', (p) => head('GET', `${p}/`, { host: 'h', 'bad name': 'x' }), 400, 'BadActionRequest'],
  [
    'a header value with a control byte',
    (p) => head('GET', `${p}/`, { host: 'h', x: 'a\u0001b' }),
    400,
    'BadActionRequest',
  ],
  [
    'headers over 16 kB',
    (p) => head('GET', `${p}/`, { host: 'h', 'x-pad': 'a'.repeat(20_000) }),
    400,
    'BadActionRequest',
  ],
  ['CONNECT', () => head('CONNECT', 'provider.test:443', { host: 'provider.test:443' }), 405, 'MethodNotAllowed'],
  ['CONNECT to a path', (p) => head('CONNECT', `${p}/`), 405, 'MethodNotAllowed'],
];

describe.each(['', '/p'])('Node serve() (prefix %j)', (prefix) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve(testProvider(), { port: 0, handleSignals: false, prefix });
  });
  afterAll(() => server.close());

  it.each(REJECTED)('answers %s with the JSON %i and closes', async (_name, bytes, status, code) => {
    expectJsonError(await exchange(server.port, bytes(prefix)), status, code);
  });

  it('answers a HEAD it cannot parse with the 400 and no body (the client reads none)', async () => {
    const line = Buffer.concat([
      Buffer.from(`HEAD ${prefix}/`),
      Buffer.from([0xe9, 0xff]),
      Buffer.from(' HTTP/1.1\r\n'),
    ]);
    const reply = await exchange(server.port, Buffer.concat([line, Buffer.from('host: h\r\n\r\n')]));
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(Number(reply.headers['content-length'])).toBeGreaterThan(0);
    expect(reply.text).toBe('');
    expect(reply.closed).toBe(true);
  });

  it('answers a request with an Expect it does not know as without it (node:http: an empty 417)', async () => {
    const reply = await exchange(
      server.port,
      head('GET', `${prefix}/`, { host: 'h', expect: 'bogus', connection: 'close' }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body?.['api_version']).toBe('1.0');
  });

  it('serves a well-formed absolute-form request as its origin-form one', async () => {
    const reply = await exchange(server.port, head('GET', `http://provider.test${prefix}/`));
    expect([reply.status, reply.body?.title]).toEqual([200, 'Test provider']);
  });

  it('answers TRACE with the 405 and Allow of the path, and 404 off the routes', async () => {
    const introspection = await exchange(server.port, head('TRACE', `${prefix}/`));
    expectJsonError(introspection, 405, 'MethodNotAllowed');
    expect(introspection.headers['allow']).toBe('GET, HEAD, OPTIONS');
    const status = await exchange(server.port, head('TRACE', `${prefix}/some-id/status`));
    expect([status.status, status.headers['allow']]).toEqual([405, 'GET, HEAD, OPTIONS']);
    expectJsonError(await exchange(server.port, head('TRACE', `${prefix}/no/such/route`)), 404, 'ActionNotFound');
  });
});

describe('Node serve() limits', () => {
  it('defaults to headers within 10 s, the whole request within 60 s, and no connection cap', async () => {
    const { server } = await started();
    expect([server.headersTimeout, server.requestTimeout, server.maxConnections]).toEqual([10_000, 60_000, undefined]);
  });

  it('answers headers that do not arrive within headersTimeout with the JSON 408, and closes', async () => {
    const server = await started({ headersTimeout: 200, requestTimeout: 5_000 });
    const begun = performance.now();
    const reply = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: provider.test\r\nX-Never: ends');
    expectJsonError(reply, 408, 'RequestTimeout');
    expect(performance.now() - begun).toBeLessThan(2_000);
  });

  it('answers a body that does not arrive within requestTimeout with the JSON 408, and closes', async () => {
    const server = await started({ headersTimeout: 200, requestTimeout: 400 });
    const token = await mint(USERS.creator);
    const bytes = `${head('POST', '/run', { host: 'h', authorization: `Bearer ${token}`, 'content-length': '100' })}{"re`;
    const begun = performance.now();
    expectJsonError(await exchange(server.port, bytes), 408, 'RequestTimeout');
    expect(performance.now() - begun).toBeLessThan(2_500);
  });

  it('closes connections beyond maxConnections at once, and serves again once one goes', async () => {
    const server = await started({ maxConnections: 2 });
    const idle = async (): Promise<Socket> => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const held = [await idle(), await idle()];
    cleanup.push(() => {
      for (const socket of held) socket.destroy();
    });
    await vi.waitUntil(
      () => new Promise((resolve) => server.server.getConnections((_error, count) => resolve(count === 2))),
    );
    const refused = await exchange(server.port, head('GET', '/'), { timeout: 2_000 });
    expect([refused.status, refused.closed]).toEqual([0, true]);
    held[0]?.destroy();
    await vi.waitUntil(
      () => new Promise((resolve) => server.server.getConnections((_error, count) => resolve(count < 2))),
    );
    expect((await exchange(server.port, head('GET', '/'))).status).toBe(200);
  });

  it.each([
    [{ headersTimeout: -1 }, /^headersTimeout: /],
    [{ headersTimeout: Number.NaN }, /^headersTimeout: /],
    [{ requestTimeout: 2 ** 31 }, /^requestTimeout: /],
    [{ requestTimeout: 1_000, headersTimeout: 2_000 }, /^headersTimeout: must not exceed requestTimeout/],
    [{ maxConnections: 0 }, /^maxConnections: /],
    [{ maxConnections: 1.5 }, /^maxConnections: /],
  ] as [ServeOptions, RegExp][])('rejects %o before listening', async (options, message) => {
    const attempt = serve(testProvider(), { port: 0, handleSignals: false, ...options });
    await expect(attempt).rejects.toThrow(TypeError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe("nodeListener in a host's own server", () => {
  const hostServer = async (guard: boolean): Promise<number> => {
    const server: Server = createServer(nodeListener(testProvider(), { prefix: '/p' }));
    if (guard) jsonClientErrors(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));
    cleanup.push(() => server.closeAllConnections());
    return (server.address() as { port: number }).port;
  };

  it('answers the requests @hono/node-server cannot build with the JSON 400, unaided', async () => {
    const at = await hostServer(false);
    expectJsonError(await exchange(at, head('GET', '/p/', { host: 'user@evil.example' })), 400, 'BadActionRequest');
    expectJsonError(await exchange(at, head('GET', '/p/x\\y')), 400, 'BadActionRequest');
    expectJsonError(await exchange(at, head('TRACE', '/p/')), 405, 'MethodNotAllowed');
  });

  it("answers node:http's own rejections and CONNECT as JSON once the host calls jsonClientErrors", async () => {
    const at = await hostServer(true);
    expectJsonError(await exchange(at, 'GARBAGE\r\n\r\n'), 400, 'BadActionRequest');
    expectJsonError(await exchange(at, head('GET', '/p/', { host: 'h', 'bad name': 'x' })), 400, 'BadActionRequest');
    expectJsonError(await exchange(at, head('CONNECT', 'h:443', { host: 'h:443' })), 405, 'MethodNotAllowed');
    const expecting = await exchange(at, head('GET', '/p/', { host: 'h', expect: 'bogus', connection: 'close' }));
    expect(expecting.status).toBe(200);
  });
});

describe('a client that aborts mid-body', () => {
  it('leaves nothing on the console from the adapter or @hono/node-server', async () => {
    const consoleCalls = (['error', 'warn', 'info', 'log', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    cleanup.push(() => {
      for (const spy of consoleCalls) spy.mockRestore();
    });
    const logger = captureLogger();
    const server = await started({}, testProvider({ logger }));
    const token = await mint(USERS.creator);
    const cut = `${head('POST', '/run', { host: 'h', authorization: `Bearer ${token}`, 'content-length': '1000' })}{"re`;
    for (let i = 0; i < 20; i++) {
      const socket = connect(server.port, '127.0.0.1', () => socket.write(cut));
      socket.on('error', () => {});
      await new Promise((resolve) => setTimeout(resolve, 15));
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const spy of consoleCalls) expect(spy).not.toHaveBeenCalled();
  });
});

describe('Express with host body parsers', () => {
  const hostWith = async (parsers: RequestHandler[], provider = testProvider()): Promise<number> => {
    const app = express();
    for (const parser of parsers) app.use(parser);
    app.use('/ap', expressMiddleware(provider));
    const host: Host = await listenNode(app);
    cleanup.push(() => host.stop());
    return port(host.url);
  };
  const deep = (depth: number) => `{"request_id":"deep","body":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  /** A run request with `body` as its bytes, as the creator unless not `authenticated`. */
  const run = async (body: string, headers: Record<string, string> = {}, authenticated = true) => {
    const auth = authenticated ? { authorization: `Bearer ${await mint(USERS.creator)}` } : {};
    const all = { host: 'h', 'content-type': 'application/json', ...auth, ...headers };
    return `${head('POST', '/ap/run', { ...all, 'content-length': String(Buffer.byteLength(body)) })}${body}`;
  };
  /** What a parser-less host answers, as status, code and description. */
  const answer = (reply: WireReply) => [reply.status, reply.body?.code, reply.body?.description];

  const BODIES: [string, string][] = [
    ['the JSON string "x"', '"x"'],
    ['the JSON number 1', '1'],
    ['the JSON null', 'null'],
    ['an empty body', ''],
    ['invalid JSON', '{oops'],
    ['arrays nested 20,000 deep (past JSON.stringify)', deep(20_000)],
    ['a valid run', '{"request_id":"r1","body":{"a":1}}'],
  ];
  const PARSERS: [string, RequestHandler[]][] = [
    ['express.json()', [express.json()]],
    ['express.json({ strict: false })', [express.json({ strict: false })]],
    [
      'json({ type: "*/*" }), urlencoded() and text()',
      [express.json({ type: '*/*' }), express.urlencoded({ extended: true }), express.text()],
    ],
    ['express.text({ type: "*/*" })', [express.text({ type: '*/*' })]],
    ['express.raw({ type: "*/*" })', [express.raw({ type: '*/*' })]],
  ];

  let bare: number;
  const expected = new Map<string, unknown[]>();
  beforeAll(async () => {
    const app = express();
    app.use('/ap', expressMiddleware(testProvider()));
    const host = await listenNode(app);
    bare = port(host.url);
    for (const [name, body] of BODIES) expected.set(name, answer(await exchange(bare, await run(body))));
    return () => host.stop();
  });

  it('answers without parsers as the provider does: "x" 422, an empty or invalid body 400', () => {
    expect(expected.get('the JSON string "x"')?.slice(0, 2)).toEqual([422, 'RequestValidationError']);
    expect(expected.get('an empty body')?.slice(0, 2)).toEqual([400, 'BadActionRequest']);
    expect(expected.get('invalid JSON')?.slice(0, 2)).toEqual([400, 'BadActionRequest']);
    expect(expected.get('a valid run')?.[0]).toBe(202);
  });

  describe.each(PARSERS)('after %s', (_name, parsers) => {
    it.each(BODIES)('answers %s as without parsers, in JSON', async (name, body) => {
      const reply = await exchange(await hostWith(parsers), await run(body));
      expect(answer(reply)).toEqual(expected.get(name));
      expect(reply.headers['content-type']).toBe('application/json');
    });
  });

  it('authenticates before anything reads a deep body: 401 without a token', async () => {
    const reply = await exchange(await hostWith([express.json()]), await run(deep(20_000), {}, false));
    expectJsonError(reply, 401, 'UnauthorizedRequest');
  });

  it("answers a form nested past urlencoded()'s depth (its RangeError) as the provider answers the bytes", async () => {
    const form = `a${'[b]'.repeat(40)}=1`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const without = await exchange(bare, await run(form, headers));
    const reply = await exchange(await hostWith([express.urlencoded({ extended: true })]), await run(form, headers));
    expect(answer(reply)).toEqual(answer(without));
    expectJsonError(reply, 400, 'BadActionRequest');
  });

  it.each(['gzip', 'deflate', 'br'])(
    'answers a %s body that does not inflate as the provider answers its bytes: routed, authenticated, then 400',
    async (encoding) => {
      const headers = { 'content-encoding': encoding };
      const host = await hostWith([express.json()]);
      const body = '{"request_id":"not-compressed","body":{}}';
      expectJsonError(await exchange(host, await run(body, headers)), 400, 'BadActionRequest');
      expectJsonError(await exchange(host, await run(body, headers, false)), 401, 'UnauthorizedRequest');
      const move = head('MOVE', '/ap/run', { host: 'h', ...headers, 'content-length': '3' });
      expect((await exchange(host, `${move}abc`)).status).toBe((await exchange(bare, `${move}abc`)).status);
    },
  );

  it('streams a body rejected before reading (an unsupported charset) to the provider', async () => {
    const headers = { 'content-type': 'application/json; charset=latin1' };
    const body = '{"request_id":"latin1","body":{"a":1}}';
    const reply = await exchange(await hostWith([express.json()]), await run(body, headers));
    expect(answer(reply)).toEqual(answer(await exchange(bare, await run(body, headers))));
    expect(reply.status).toBe(202);
  });

  it("keeps a body the host's verify rejected rejected: the JSON 400, and the provider never runs", async () => {
    let runs = 0;
    const provider = testProvider({
      run: () => {
        runs += 1;
        return { status: 'SUCCEEDED' };
      },
    });
    const verify = () => {
      throw new Error('bad signature');
    };
    const reply = await exchange(await hostWith([express.json({ verify })], provider), await run('{"a":1}'));
    expectJsonError(reply, 400, 'BadActionRequest');
    expect(runs).toBe(0);
  });

  it("answers a parser's 5xx (the host's doing) with the generic JSON 500, logged, nothing echoed", async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanup.push(() => logged.mockRestore());
    const misconfigured: RequestHandler = (_req, _res, next) =>
      next(Object.assign(new Error('stream encoding should not be set'), { status: 500, type: 'stream.encoding.set' }));
    const reply = await exchange(await hostWith([misconfigured]), await run('{}'));
    expectJsonError(reply, 500, 'ActionProviderError');
    expect(reply.body.description).toBe('Internal Server Error');
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it("leaves a middleware's own error under the mount (a 429 with a type) to the host", async () => {
    const limited: RequestHandler = (_req, _res, next) =>
      next(Object.assign(new Error('slow down'), { status: 429, type: 'rate.limited' }));
    const app = express();
    app.use('/ap', limited, ...expressMiddleware(testProvider()));
    app.use(
      ((error, _req, res, _next) => void res.status(429).json({ host: error.message })) as express.ErrorRequestHandler,
    );
    const host = await listenNode(app);
    cleanup.push(() => host.stop());
    const reply = await exchange(port(host.url), await run('{}'));
    expect([reply.status, reply.body]).toEqual([429, { host: 'slow down' }]);
  });
});

describe.each([
  ['Bun', BIN('bun'), ['test/fixtures/hostile-runtime.ts']],
  ['Deno', BIN('deno'), ['run', '-A', 'test/fixtures/hostile-runtime.ts']],
  ['Node', process.execPath, ['--import', 'tsx', 'test/fixtures/hostile-runtime.ts']],
])('%s serve() under a prefix', (_name, command, args) => {
  let host: ProviderProcess;
  let at: number;
  beforeAll(async () => {
    host = await spawnHost(command, args);
    at = port(host.url);
  }, 60_000);
  afterAll(() => host?.kill());

  it('answers a Host that makes no URL with the JSON 400', async () => {
    expectJsonError(await exchange(at, head('GET', '/p/', { host: 'a b' })), 400, 'BadActionRequest');
  });

  it('serves a well-formed absolute-form request, and answers an unusable one in JSON', async () => {
    const reply = await exchange(at, head('GET', 'http://provider.test/p/'));
    expect([reply.status, reply.body?.title]).toEqual([200, expect.stringMatching(/^Hostile on /)]);
    const unusable = await exchange(at, head('GET', 'http://[bad/p/'));
    expect(unusable.headers['content-type']).toBe('application/json');
  });

  it('answers TRACE under the prefix with the provider’s 405 and Allow, and 404 off its routes', async () => {
    const reply = await exchange(at, head('TRACE', '/p/'));
    expectJsonError(reply, 405, 'MethodNotAllowed');
    expect(reply.headers['allow']).toBe('GET, HEAD, OPTIONS');
    expectJsonError(await exchange(at, head('TRACE', '/p/no/such/route')), 404, 'ActionNotFound');
  });

  it('answers a throw past the provider with the generic JSON 500, no stack trace', async () => {
    const reply = await exchange(at, head('GET', '/p/boom'));
    expectJsonError(reply, 500, 'ActionProviderError');
    expect(reply.body.description).toBe('Internal Server Error');
    expect(host.output()).toMatch(/unhandled error in the adapter/);
  });
});

describe('Cloudflare Workers adapter (workerd) under a prefix', () => {
  const SCRIPT = 'test/fixtures/wait-until-worker.ts';

  it('answers TRACE with the provider’s 405 and Allow', async () => {
    const env = await exampleEnv();
    const host = await startWorker(SCRIPT, { JWT_JWKS: env['JWT_JWKS'] ?? '', PROVIDER_SCOPE: SCOPE });
    cleanup.push(() => host.stop());
    // workerd keeps the connection open whatever the request asks.
    const reply = await exchange(port(host.url), head('TRACE', '/ap/'), { untilResponse: true });
    expectError(asReply(reply), 405, 'MethodNotAllowed');
    expect(reply.headers['allow']).toBe('GET, HEAD, OPTIONS');
  });

  it('answers while its provider cannot be built (a missing binding) with the generic JSON 500', async () => {
    const host = await startWorker(SCRIPT, { PROVIDER_SCOPE: SCOPE });
    cleanup.push(() => host.stop());
    const reply = await exchange(port(host.url), head('GET', '/ap/'), { untilResponse: true });
    expectError(asReply(reply), 500, 'ActionProviderError', 'Internal Server Error');
  });
});
