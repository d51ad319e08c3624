/**
 * @module test/request-logs: what a provider writes while it serves, over real HTTP: one info
 * line per request (with its id, route, operation, status, duration, action and caller, never a
 * token or a body), the reason of each 401 and 403 at debug, `logLevel`, consoleLogger's lines,
 * and pino through `pinoLogger` with its own argument order.
 */
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import pino from 'pino';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  ActionError,
  consoleLogger,
  createActionProvider,
  jwtAuth,
  type Logger,
  type ProviderOptions,
  pinoLogger,
} from '../src/index.ts';
import { rid } from './support/actions.ts';
import { ISSUER, mint, SCOPE, testAuth, USERS, urn } from './support/identities.ts';
import { own, signed } from './support/jwt.ts';
import { type CapturingLogger, captureLogger } from './support/logger.ts';
import { description } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { listen } from './support/transports.ts';

type Options = Partial<ProviderOptions>;

async function served(options: Options = {}) {
  const logger = (options.logger as CapturingLogger | undefined) ?? captureLogger();
  const provider = createActionProvider({
    description: description(),
    auth: testAuth(),
    run: ({ request }) => ({ status: 'ACTIVE', details: { got: request.body } }),
    ...options,
    logger,
  } as ProviderOptions);
  const server = await listen(provider);
  onTestFinished(() => server.close());
  // What creation said (the memory store's warning) is not what serving says.
  if (Array.isArray(logger.lines)) logger.lines.length = 0;
  return { logger, raw: rawCaller(server.url), url: server.url };
}

const requestLines = (logger: CapturingLogger) => logger.lines.filter((line) => line.message === 'request completed');

describe('the info line of each request', () => {
  it('names the request id, method, route, operation, status, duration, action and caller, and nothing secret', async () => {
    const { logger, raw } = await served();
    const token = await mint(USERS.creator);
    const run = await raw('POST', '/actions', {
      token,
      body: { request_id: rid(), body: { secret_input: 'hush-7431' } },
    });
    expect(run.status).toBe(202);
    const actionId = (run.body as { action_id: string }).action_id;
    const status = await raw('GET', `/actions/${actionId}`, { token, headers: { 'x-request-id': 'poll-1' } });
    expect(status.status).toBe(200);
    const [runLine, statusLine] = requestLines(logger);
    expect(runLine?.level).toBe('info');
    expect(runLine?.fields).toMatchObject({
      request_id: run.headers.get('x-request-id'),
      method: 'POST',
      route: '/actions',
      operation: 'run',
      status: 202,
      action_id: actionId,
      identity: urn(USERS.creator),
    });
    expect(statusLine?.fields).toEqual({
      request_id: 'poll-1',
      method: 'GET',
      route: '/actions/:id',
      operation: 'status',
      status: 200,
      duration_ms: expect.any(Number),
      action_id: actionId,
      identity: urn(USERS.creator),
    });
    expect(status.headers.get('x-request-id')).toBe('poll-1');
    const text = logger.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain('hush-7431');
  });

  it('is written for what no operation answers too: 404, 405, preflights, introspection', async () => {
    const { logger, raw } = await served();
    expect((await raw('GET', '/nowhere')).status).toBe(404);
    expect((await raw('PUT', '/run')).status).toBe(405);
    expect((await raw('OPTIONS', '/actions')).status).toBe(204);
    expect((await raw('GET', '/')).status).toBe(200);
    expect(
      requestLines(logger).map((line) => [
        line.fields?.['operation'],
        line.fields?.['route'],
        line.fields?.['status'],
        line.fields?.['code'],
      ]),
    ).toEqual([
      [null, null, 404, undefined],
      [null, null, 405, undefined],
      ['preflight', '/actions', 204, undefined],
      ['introspect', '/', 200, undefined],
    ]);
  });

  it('carries the error code of an error answer, and the request id in the failure line of a 5xx', async () => {
    const { logger, raw } = await served({
      run: () => {
        throw new Error('the database fell over');
      },
    });
    const token = await mint(USERS.creator);
    const reply = await raw('POST', '/run', { token, body: { request_id: rid(), body: {} } });
    expect(reply.status).toBe(500);
    const id = reply.headers.get('x-request-id');
    expect(requestLines(logger)[0]?.fields).toMatchObject({
      request_id: id,
      status: 500,
      code: 'ActionProviderError',
      operation: 'run',
    });
    const failure = logger.lines.find((line) => line.message === 'unhandled error');
    expect(failure?.level).toBe('error');
    expect(failure?.fields?.['request_id']).toBe(id);
    expect(JSON.stringify(reply.body)).not.toContain('fell over');
  });

  it('are held back, not repeated, when the same failure fails every request', async () => {
    const { logger, raw } = await served({
      run: () => {
        throw new ActionError('ServiceUnavailable', 'The store is down');
      },
    });
    const token = await mint(USERS.creator);
    for (let i = 0; i < 20; i++) {
      expect((await raw('POST', '/run', { token, body: { request_id: rid(), body: {} } })).status).toBe(503);
    }
    expect(requestLines(logger)).toHaveLength(20);
    expect(logger.lines.filter((line) => line.message === 'request failed')).toHaveLength(1);
  });
});

describe('work a request left running (waitUntil)', () => {
  it('is logged with the id of the request that started it when it fails', async () => {
    const { logger, raw } = await served({
      run: ({ waitUntil }) => {
        waitUntil(Promise.reject(new Error('the webhook was refused')));
        return { status: 'ACTIVE' };
      },
    });
    const reply = await raw('POST', '/run', {
      token: await mint(USERS.creator),
      body: { request_id: rid(), body: {} },
    });
    expect(reply.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const failure = logger.lines.find((line) => line.message === 'background work failed');
    expect(failure?.level).toBe('error');
    expect(failure?.fields?.['request_id']).toBe(reply.headers.get('x-request-id'));
  });
});

describe('the reason of a refusal, at debug', () => {
  it('tells an expired token, a wrong issuer and a missing scope apart, without the token; the caller sees one answer', async () => {
    const { logger, raw } = await served({
      logLevel: 'debug',
      auth: jwtAuth({ key: own.publicKey, issuer: ISSUER, algorithms: ['ES256'] }),
    });
    const now = Math.floor(Date.now() / 1000);
    const expired = await signed({ sub: USERS.creator.split(':').at(-1), exp: now - 600 });
    const elsewhere = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('urn:other:issuer')
      .setSubject(USERS.creator)
      .setExpirationTime('1h')
      .sign(own.privateKey);
    const answers = [];
    for (const token of [expired, elsewhere]) answers.push(await raw('GET', '/actions/some-id', { token }));
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [401, { code: 'UnauthorizedRequest', description: 'Invalid or expired bearer token' }],
      [401, { code: 'UnauthorizedRequest', description: 'Invalid or expired bearer token' }],
    ]);
    const refusals = logger.lines.filter((line) => line.message === 'request refused');
    expect(refusals.map((line) => line.level)).toEqual(['debug', 'debug']);
    expect(String(refusals[0]?.fields?.['cause'])).toMatch(/"exp" claim timestamp check failed/);
    expect(String(refusals[1]?.fields?.['cause'])).toMatch(/"iss" claim/);
    expect(refusals[0]?.fields?.['request_id']).toBe(answers[0]?.headers.get('x-request-id'));
    // A refusal answered from the cache says so.
    await raw('GET', '/actions/some-id', { token: expired });
    expect(String(logger.lines.filter((line) => line.message === 'request refused')[2]?.fields?.['cause'])).toMatch(
      /cached/,
    );
    expect(logger.text()).not.toContain(expired);
    expect(logger.text()).not.toContain(elsewhere);
  });

  it('names a 403 for a caller the provider does not let run', async () => {
    const { logger, raw } = await served({
      logLevel: 'debug',
      description: description({ runnable_by: [urn(USERS.monitor)] }),
    });
    const reply = await raw('POST', '/run', {
      token: await mint(USERS.creator),
      body: { request_id: rid(), body: {} },
    });
    expect(reply.status).toBe(403);
    expect(logger.lines.find((line) => line.message === 'request refused')?.fields).toMatchObject({
      status: 403,
      code: 'ForbiddenRequest',
      reason: 'Not allowed to run this provider',
      operation: 'run',
    });
  });

  it('is not written at logLevel info (the default of the console logger)', async () => {
    const { logger, raw } = await served({ logLevel: 'info' });
    expect((await raw('GET', '/actions/x', { token: 'not-a-jwt' })).status).toBe(401);
    expect(logger.lines.filter((line) => line.level === 'debug')).toEqual([]);
    expect(requestLines(logger)[0]?.fields).toMatchObject({ status: 401, code: 'UnauthorizedRequest' });
  });
});

describe('logLevel', () => {
  it('warn writes no request lines, silent nothing at all; a bad one is refused at creation', async () => {
    for (const [logLevel, expected] of [
      ['warn', ['request failed']],
      ['silent', []],
    ] as const) {
      const { logger, raw } = await served({
        logLevel,
        run: () => {
          throw new ActionError('ServiceUnavailable', 'down');
        },
      });
      await raw('POST', '/run', { token: await mint(USERS.creator), body: { request_id: rid(), body: {} } });
      await raw('GET', '/');
      expect(logger.lines.map((line) => line.message)).toEqual(expected);
    }
    expect(() =>
      createActionProvider({
        description: description(),
        auth: testAuth(),
        run: () => ({ status: 'SUCCEEDED' }),
        logLevel: 'loud' as never,
      }),
    ).toThrow(/logLevel: must be one of debug, info, warn, error, silent/);
  });

  it('with a logger of its own and no logLevel, every line goes to it, and its enabled() is asked first', async () => {
    const asked: string[] = [];
    const base = captureLogger();
    const logger: Logger & CapturingLogger = {
      ...base,
      enabled: (level) => {
        asked.push(level);
        return level !== 'info';
      },
    };
    const { raw } = await served({ logger });
    base.lines.length = 0;
    await raw('GET', '/');
    await raw('GET', '/actions/x', { token: 'bad' });
    expect(asked).toContain('info');
    expect(base.lines.map((line) => line.message)).toEqual(['request refused']);
  });
});

describe('consoleLogger', () => {
  const written: string[] = [];
  const original = { log: console.log, error: console.error };
  afterEach(() => {
    console.log = original.log;
    console.error = original.error;
    written.length = 0;
  });

  it('writes one JSON line per request at info, warnings and errors to stderr', async () => {
    console.log = (line: string) => void written.push(`out ${line}`);
    console.error = (line: string) => void written.push(`err ${line}`);
    const { raw } = await served({ logger: consoleLogger('info') as CapturingLogger });
    await raw('GET', '/', { headers: { 'x-request-id': 'console-1' } });
    const line = written.find((entry) => entry.includes('console-1'));
    expect(line?.startsWith('out ')).toBe(true);
    expect(JSON.parse((line as string).slice(4))).toMatchObject({
      level: 'info',
      message: 'request completed',
      request_id: 'console-1',
      operation: 'introspect',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});

describe('pinoLogger', () => {
  it("gives pino its fields first and the message second, redacted as the console logger is, at pino's level", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text));
        done();
      },
    });
    const logger = pinoLogger(pino({ level: 'debug' }, sink)) as CapturingLogger;
    const { raw } = await served({ logger });
    lines.length = 0;
    await raw('GET', '/', { headers: { 'x-request-id': 'pino-1' } });
    await raw('GET', '/actions/x', { token: 'not-a-jwt' });
    logger.warn('custom', { access_token: 'abc123', nested: { client_secret: 's' } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      request_id: 'pino-1',
      operation: 'introspect',
    });
    expect(lines.find((line) => line['msg'] === 'request refused')).toMatchObject({ level: 20, status: 401 });
    expect(lines.at(-1)).toMatchObject({
      level: 40,
      msg: 'custom',
      access_token: '[redacted]',
      nested: { client_secret: '[redacted]' },
    });
    expect(JSON.stringify(lines)).not.toContain('abc123');
    // At pino's info level the debug line is never even built.
    const quiet = pinoLogger(pino({ level: 'info' }, sink));
    expect(quiet.enabled?.('debug')).toBe(false);
    expect(quiet.enabled?.('info')).toBe(true);
  });
});
