/**
 * @module test/request-body: a run body however it arrives: in tiny chunks (refused once it
 * shows, memory and CPU bounded by the limit), not UTF-8, nested deeper than the documented
 * limit, or cut off by a client that leaves mid-body. Over a real socket, byte for byte.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestingDepth } from '../src/http/json.ts';
import { actionClient } from '../src/testing/index.ts';
import { rid } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { mint, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { listen } from './support/transports.ts';
import { chunked, exchange } from './support/wire.ts';

const token = await mint(USERS.creator);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function server(options: Parameters<typeof testProvider>[0] = {}) {
  const logger = captureLogger();
  const provider = testProvider({ logger, ...options });
  const running = await listen(provider);
  closers.push(() => {
    running.server.closeAllConnections();
    return running.close();
  });
  return { url: running.url, port: running.port, logger };
}

const envelope = (body: Record<string, unknown> = {}) => JSON.stringify({ request_id: rid(), body });
const head = (framing: string) =>
  `${[
    'POST /run HTTP/1.1',
    'host: 127.0.0.1',
    `authorization: Bearer ${token}`,
    'content-type: application/json',
    'connection: close',
    framing,
  ].join('\r\n')}\r\n\r\n`;
const rawRequest = (headText: string, body: Buffer | string) =>
  Buffer.concat([Buffer.from(headText), Buffer.from(body)]);
const send = (port: number, bytes: Buffer, options: { stopAfter?: number } = {}) =>
  exchange(port, bytes, { timeout: 30_000, ...options });
const asChunks = (text: string | Buffer, size: number) =>
  rawRequest(head('transfer-encoding: chunked'), chunked(text, size));
const withLength = (bytes: Buffer) => rawRequest(head(`content-length: ${bytes.length}`), bytes);

describe('a run body in chunks', () => {
  it('accepts a 1 MiB body in 1 KiB chunks', async () => {
    const { port } = await server();
    const reply = await send(port, asChunks(envelope({ pad: 'x'.repeat(1024 * 1024) }), 1024));
    expect(reply.status, reply.text).toBe(202);
  });

  it('refuses a body in 1-byte chunks with a JSON 413 once it shows, and keeps serving', async () => {
    const { url, port } = await server();
    const reply = await send(port, asChunks(envelope({ pad: 'x'.repeat(256 * 1024) }), 1));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toEqual({ code: 'PayloadTooLarge', description: expect.stringMatching(/chunks/) });
    expect((await actionClient(url, { token }).run({ body: {} })).status).toBe(202);
  });

  it('survives four concurrent 9.5 MB bodies in 1-byte chunks (the heap used to grow past 4 GB)', async () => {
    const { url, port } = await server();
    // The envelope around 9.5 million one-byte chunks of padding (framed by hand: much faster to build).
    const [before, after] = envelope({ pad: '<pad>' }).split('<pad>') as [string, string];
    const framing = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const body = rawRequest(
      head('transfer-encoding: chunked'),
      `${framing(before)}${'1\r\nx\r\n'.repeat(9_500_000)}${framing(after)}0\r\n\r\n`,
    );
    const replies = await Promise.all([1, 2, 3, 4].map(() => send(port, body)));
    expect(replies.map((reply) => reply.status)).toEqual([413, 413, 413, 413]);
    expect((await actionClient(url, { token }).run({ body: {} })).status).toBe(202);
  });

  it('still answers 413 for a chunked body above bodyLimit', async () => {
    const { port } = await server({ bodyLimit: 1000 });
    const reply = await send(port, asChunks(envelope({ pad: 'x'.repeat(5000) }), 500));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text).description).toMatch(/limit of 1000 bytes/);
  });
});

describe('a run body that is not UTF-8 JSON', () => {
  const invalid = Buffer.concat([
    Buffer.from(`{"request_id":"${rid()}","body":{"s":"`),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}}'),
  ]);

  it.each([
    ['with a Content-Length', () => withLength(invalid)],
    ['chunked', () => asChunks(invalid, 8)],
  ])('answers invalid UTF-8 %s with 400 Invalid JSON (not U+FFFD)', async (_name, bytes) => {
    const { port } = await server();
    const reply = await send(port, bytes());
    expect([reply.status, JSON.parse(reply.text)]).toEqual([
      400,
      { code: 'BadActionRequest', description: 'Invalid JSON' },
    ]);
  });
});

describe('nesting depth', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const runWith = (bodyJson: string) => `{"request_id":"${rid()}","body":${bodyJson}}`;

  it(`accepts a body nested to the limit (${MAX_JSON_DEPTH} levels, the envelope included)`, async () => {
    const call = rawCaller(testProvider());
    const reply = await call('POST', '/run', { token, raw: runWith(nested(MAX_JSON_DEPTH - 1)) });
    expect(reply.status, reply.text).toBe(202);
  });

  it.each([MAX_JSON_DEPTH, 3_000, 5_000, 100_000])(
    'answers a body nested %i levels with 422, also when repeated',
    async (depth) => {
      const call = rawCaller(testProvider());
      const text = runWith(nested(depth));
      for (let i = 0; i < 2; i++) {
        const reply = await call('POST', '/run', { token, raw: text });
        expectError(reply, 422, 'RequestValidationError', /nested deeper than/);
      }
    },
  );

  it('counts brackets outside strings only', () => {
    expect(nestingDepth('{"a":"[[[{{{","b":[{"c":"\\"]]"}]}')).toBe(3);
    expect(nestingDepth('"[[[["')).toBe(0);
    expect(nestingDepth('[[],[[]]]')).toBe(3);
  });
});

describe('a client that leaves mid-body', () => {
  it('logs nothing above debug and leaves the server serving', async () => {
    const { url, port, logger } = await server();
    logger.lines.length = 0; // the memory store's warning at creation
    const bytes = withLength(Buffer.from(envelope({ pad: 'x'.repeat(200_000) })));
    await Promise.all(Array.from({ length: 20 }, () => send(port, bytes, { stopAfter: 100_000 })));
    expect((await actionClient(url, { token }).run({ body: {} })).status).toBe(202);
    // Nothing but the line of each request at info.
    expect(logger.lines.filter((line) => line.level !== 'debug' && line.message !== 'request completed')).toEqual([]);
    // Once (per cause and minute), and without a stack.
    const cutOff = logger.lines.filter((line) => /connection was closed/.test(line.message));
    expect(cutOff).toHaveLength(1);
    expect(logger.text()).not.toMatch(/\n\s+at /);
  });
});
