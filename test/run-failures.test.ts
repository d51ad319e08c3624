/**
 * @module test/run-failures: run (`POST /run`, `POST /actions`): body size limits, failing run
 * callbacks, error bodies, and tokens kept out of answers and logs.
 */
import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActionError, type ActionUpdate } from '../src/index.ts';
import type { ClientReply } from '../src/testing/index.ts';
import { rid } from './support/actions.ts';
import { expectAction, expectError } from './support/assertions.ts';
import { tokens } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { testProvider } from './support/providers.ts';
import { toReply } from './support/raw.ts';
import { connectRun, ROUTES } from './support/routes.ts';
import { type Connection, type Servable, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

const MiB = 1024 * 1024;
const INTERNAL = { code: 'ActionProviderError', description: 'Internal Server Error' };

/** A request body of exactly `size` bytes. */
function bodyOfSize(size: number): string {
  const head = `{"request_id":"${rid()}","body":{"pad":"`;
  const tail = '"}}';
  return head + 'x'.repeat(size - head.length - tail.length) + tail;
}

/** POST `text` with a Content-Length header (fetch adds it over HTTP; in process it is set by hand). */
async function postSized(connection: Connection, route: string, text: string): Promise<ClientReply> {
  const bytes = new TextEncoder().encode(text);
  const headers: Record<string, string> = { authorization: `Bearer ${t.creator}`, 'content-type': 'application/json' };
  if (connection.url === undefined) headers['content-length'] = String(bytes.byteLength);
  return toReply(await connection.fetch(route, { method: 'POST', headers, body: bytes }));
}

/** A body stream of `total` bytes made on demand, counting what was pulled. */
function lazyStream(total: number, chunkSize = 64 * 1024) {
  const chunk = new Uint8Array(chunkSize).fill(0x20);
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled === 0) {
        const head = new TextEncoder().encode(`{"request_id":"${rid()}","body":{}}`);
        counter.pulled += head.byteLength;
        controller.enqueue(head);
        return;
      }
      if (counter.pulled >= total) return controller.close();
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, counter };
}

interface StreamResult {
  reply: ClientReply;
  written: number;
  ms: number;
}

/**
 * POST `total` bytes over node:http, written as fast as the socket takes them, until the
 * response arrives: either chunked or under a declared Content-Length.
 */
function streamOverHttp(url: string, route: string, total: number, declareLength: boolean): Promise<StreamResult> {
  const started = Date.now();
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return new Promise((resolve, reject) => {
    let written = 0;
    let responded = false;
    let wake: (() => void) | undefined;
    const wakeUp = () => wake?.();
    const req = httpRequest(url + route, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.creator}`,
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': String(total) } : {}),
      },
    });
    req.on('drain', wakeUp);
    req.on('close', wakeUp);
    req.on('response', (res) => {
      responded = true;
      wakeUp();
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          if (typeof value === 'string') headers.set(name, value);
        req.destroy();
        resolve({
          reply: { status: res.statusCode ?? 0, headers, text, body: JSON.parse(text) },
          written,
          ms: Date.now() - started,
        });
      });
    });
    req.on('error', (error) => {
      if (!responded) reject(error);
    });
    void (async () => {
      while (!responded && !req.destroyed && written < total) {
        const part =
          written === 0
            ? Buffer.from('{"request_id":"x","body":{},"pad":"')
            : chunk.subarray(0, Math.min(chunk.length, total - written));
        written += part.length;
        if (!req.write(part) && !responded) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      }
    })();
  });
}

describe.each(TRANSPORTS)('run, body size ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('accepts a body of 1 MiB under the default limit', async () => {
      const connection = await open(testProvider({ run: () => ({ status: 'ACTIVE' }) }));
      const reply = await postSized(connection, route, bodyOfSize(MiB));
      expectAction(reply, 202);
    });

    it('accepts a body of exactly bodyLimit bytes and answers one byte more with 413', async () => {
      const limit = 4096;
      const connection = await open(testProvider({ bodyLimit: limit, run: () => ({ status: 'ACTIVE' }) }));
      expectAction(await postSized(connection, route, bodyOfSize(limit)), 202);
      expectError(await postSized(connection, route, bodyOfSize(limit + 1)), 413, 'PayloadTooLarge');
    });

    it('answers a streamed body above bodyLimit, sent without Content-Length, with 413', async () => {
      let calls = 0;
      const provider = testProvider({
        bodyLimit: 4096,
        run: () => {
          calls++;
          return { status: 'ACTIVE' };
        },
      });
      const lengths: (string | null)[] = [];
      // Record what the handler saw, to be sure no Content-Length announced the size.
      const connection = await open({
        ...provider,
        fetch: (request: Request) => {
          lengths.push(request.headers.get('content-length'));
          return provider.fetch(request);
        },
      });
      const { stream } = lazyStream(64 * 1024, 1024);
      const response = await connection.fetch(route, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.creator}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expectError(await toReply(response), 413, 'PayloadTooLarge');
      expect(lengths).toEqual([null]);
      expect(calls).toBe(0);
    });

    it('answers a 50 MiB stream against a 1 MiB limit with 413 quickly, without reading it all', async () => {
      const total = 50 * MiB;
      const connection = await open(testProvider({ bodyLimit: MiB }));
      if (connection.url === undefined) {
        const { stream, counter } = lazyStream(total);
        const started = Date.now();
        const response = await connection.fetch(route, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.creator}` },
          body: stream,
          duplex: 'half',
        } as RequestInit);
        expectError(await toReply(response), 413, 'PayloadTooLarge');
        // Reading stopped at the limit (plus the stream's read-ahead).
        expect(counter.pulled).toBeLessThanOrEqual(MiB + 4 * 64 * 1024);
        expect(Date.now() - started).toBeLessThan(3000);
      } else {
        const { reply, written, ms } = await streamOverHttp(connection.url, route, total, false);
        expectError(reply, 413, 'PayloadTooLarge');
        // What the sockets buffered before the answer came: a few MiB, not the 50 sent for.
        expect(written).toBeLessThan(20 * MiB);
        expect(ms).toBeLessThan(3000);
      }
    });

    it('answers a declared Content-Length of 50 MiB above the limit with 413 before reading the body', async () => {
      const total = 50 * MiB;
      const connection = await open(testProvider({ bodyLimit: MiB }));
      if (connection.url === undefined) {
        const { stream, counter } = lazyStream(total);
        const response = await connection.fetch(route, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.creator}`, 'content-length': String(total) },
          body: stream,
          duplex: 'half',
        } as RequestInit);
        expectError(await toReply(response), 413, 'PayloadTooLarge');
        // Decided from the header: at most the stream's own read-ahead was pulled.
        expect(counter.pulled).toBeLessThanOrEqual(2 * 64 * 1024);
      } else {
        const { reply, written, ms } = await streamOverHttp(connection.url, route, total, true);
        expectError(reply, 413, 'PayloadTooLarge');
        // What the sockets buffered before the answer came: a few MiB, not the 50 sent for.
        expect(written).toBeLessThan(20 * MiB);
        expect(ms).toBeLessThan(3000);
      }
    });
  });
});

describe.each(TRANSPORTS)('run, failing run callbacks ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    /** A provider whose run returns (or throws) each of `results` in turn, with a capturing logger. */
    async function scripted(results: unknown[]) {
      const logger = captureLogger();
      let calls = 0;
      const connection = await open(
        testProvider({
          logger,
          run: () => {
            const next = results[calls++];
            if (typeof next === 'function') return (next as () => never)();
            return next as ActionUpdate;
          },
        }),
      );
      return { ...connection, logger, calls: () => calls };
    }

    it.each([
      ['an unknown status', { status: 'DONE' }],
      ['details as a string', { status: 'SUCCEEDED', details: 'a string' }],
      ['no status', { details: {} }],
      ['nothing', undefined],
    ])(
      'answers run returning %s with the generic 500, logs the cause, and frees the request_id',
      async (_name, malformed) => {
        const { run, logger, calls } = await scripted([malformed, { status: 'ACTIVE', details: { second: true } }]);
        const request = { request_id: rid(), body: {} };
        const failed = await run(t.creator, request);
        expectError(failed, 500, 'ActionProviderError', 'Internal Server Error');
        expect(failed.body).toEqual(INTERNAL);
        const logged = logger.lines.filter((line) => line.level === 'error');
        expect(logged).toHaveLength(1);
        expect(logger.text()).toContain('run callback returned an invalid status');
        expect(failed.text).not.toContain('run callback');
        const retry = await run(t.creator, request);
        expectAction(retry, 202);
        expect(retry.body.details).toEqual({ second: true });
        expect(calls()).toBe(2);
      },
    );

    it('answers run throwing a plain Error with the generic 500, never echoing its message, and frees the request_id', async () => {
      const { run, logger } = await scripted([
        () => {
          throw new Error('database password is hunter2');
        },
        { status: 'ACTIVE' },
      ]);
      const request = { request_id: rid(), body: {} };
      const failed = await run(t.creator, request);
      expectError(failed, 500, 'ActionProviderError', 'Internal Server Error');
      expect(failed.text).not.toContain('hunter2');
      expect(logger.text()).toContain('database password is hunter2');
      expectAction(await run(t.creator, request), 202);
    });

    it("answers run throwing ActionError('RequestValidationError', ...) with that 422 body", async () => {
      const description = "Field '$.path' (category: 'value'): path must be absolute";
      const { run } = await scripted([
        () => {
          throw new ActionError('RequestValidationError', description);
        },
        { status: 'ACTIVE' },
      ]);
      const request = { request_id: rid(), body: {} };
      const failed = await run(t.creator, request);
      expectError(failed, 422, 'RequestValidationError', description);
      expect(failed.body).toEqual({ code: 'RequestValidationError', description });
      // Not acknowledged, so the request_id may be used again.
      expectAction(await run(t.creator, request), 202);
    });

    it('answers run throwing a 5xx ActionError with its own code, and logs it', async () => {
      const { run, logger } = await scripted([
        () => {
          throw new ActionError('ServiceUnavailable', 'The transfer service is down');
        },
      ]);
      const failed = await run(t.creator, { request_id: rid(), body: {} });
      expectError(failed, 503, 'ServiceUnavailable', 'The transfer service is down');
      expect(logger.text()).toContain('The transfer service is down');
    });
  });
});

describe.each(TRANSPORTS)('run, error bodies and secrets ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('never puts a token in an error body or a log line', async () => {
      const logger = captureLogger();
      let calls = 0;
      const connection = await open(
        testProvider({
          logger,
          bodyLimit: 2048,
          run: ({ caller }) => {
            calls++;
            // The caller travels inside what is logged: its token must not come along.
            if (calls === 1) throw new Error('boom', { cause: caller });
            if (calls === 2) return { status: 'DONE', details: { caller } } as unknown as ActionUpdate;
            return { status: 'ACTIVE' };
          },
        }),
      );
      const { run, raw } = connection;
      const forged = `${t.stranger.slice(0, -4)}AAAA`;
      const replies: ClientReply[] = [];
      const kept = async (sent: Promise<ClientReply>) => {
        const reply = await sent;
        replies.push(reply);
        return reply;
      };
      const request = { request_id: rid(), body: {} };
      expectError(await kept(run(t.creator, request)), 500, 'ActionProviderError'); // run throws
      expectError(await kept(run(t.creator, request)), 500, 'ActionProviderError'); // malformed status
      expectAction(await kept(run(t.creator, request)), 202);
      expectAction(await kept(run(t.creator, request)), 200);
      expectError(await kept(run(t.creator, { ...request, body: { other: 1 } })), 409, 'ActionConflict');
      expectError(await kept(run(forged, request)), 401, 'UnauthorizedRequest');
      // Basic credentials and broken JSON are not what the client sends: raw.
      expectError(
        await kept(raw('POST', route, { headers: { authorization: `Basic ${t.creator}` }, body: request })),
        401,
        'UnauthorizedRequest',
      );
      expectError(
        await kept(raw('POST', route, { token: t.creator, raw: `{"token": "${t.creator}"` })),
        400,
        'BadActionRequest',
      );
      expectError(
        await kept(run(t.creator, { request_id: rid(), body: {}, label: t.creator })),
        422,
        'RequestValidationError',
      );
      expectError(
        await kept(run(t.creator, { request_id: rid(), body: { pad: 'x'.repeat(4096) } })),
        413,
        'PayloadTooLarge',
      );
      expect(logger.lines.length).toBeGreaterThanOrEqual(2);
      const logs = logger.text();
      for (const secret of [t.creator, forged, t.creator.split('.')[2]!, forged.split('.')[2]!]) {
        for (const reply of replies) expect(reply.text).not.toContain(secret);
        expect(logs).not.toContain(secret);
      }
    });
  });
});
