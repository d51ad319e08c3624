/**
 * @module test/bench/server: the server side of the benchmark, run as a child process of
 * test/bench/core.ts (never on its own). One process serves one thing:
 *
 * - `hono`: a bare Hono app with one `GET` route per body in `BENCH_ROUTES` (a JSON object of
 *   path → JSON value), served with @hono/node-server's `serve()`;
 * - `provider`: the echo provider (examples/echo.ts) with the dev authenticator, the memory
 *   store and a silent logger, served with the library's own adapter (adapters/node.ts).
 *
 * It talks to the parent over the IPC channel: `ready` (port, and a token for the provider),
 * then answers `rss` (after a forced GC; needs --expose-gc), `cpu` (process CPU time) and `fill` (create actions
 * in-process through `provider.fetch`), and exits on `exit`.
 */

import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { Hono } from 'hono';
import { serve } from '../../adapters/node.ts';
import { devAuth } from '../../examples/dev-auth.ts';
import { ECHO_SCOPE, echoProvider } from '../../examples/echo.ts';
import { type ActionProvider, silentLogger } from '../../src/index.ts';

export type ToChild = { type: 'rss' } | { type: 'cpu' } | { type: 'fill'; count: number } | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; port: number; token?: string }
  | { type: 'rss'; rss: number; heapUsed: number }
  | { type: 'cpu'; micros: number }
  | { type: 'filled'; count: number; ms: number; failed: number };

const send = (message: FromChild) => process.send?.(message);

function forcedGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  // Twice: the first pass may only promote what the second frees.
  gc();
  gc();
}

async function startHono(): Promise<number> {
  const routes = JSON.parse(process.env['BENCH_ROUTES'] ?? '{}') as Record<string, unknown>;
  const app = new Hono();
  for (const [path, body] of Object.entries(routes)) {
    const obj = body as object;
    app.get(path, (c) => c.json(obj));
  }
  return new Promise((resolve) => {
    honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
}

/** Create `count` actions through the whole in-process pipeline (auth, validation, run, store), 100 at a time. */
async function fill(provider: ActionProvider, token: string, count: number): Promise<{ ms: number; failed: number }> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const started = performance.now();
  let failed = 0;
  const BATCH = 100;
  for (let done = 0; done < count; done += BATCH) {
    const batch: Promise<Response>[] = [];
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      const body = JSON.stringify({ request_id: `fill-${i}`, body: { input_string: 'hello' } });
      batch.push(
        Promise.resolve(provider.fetch(new Request('http://bench.local/run', { method: 'POST', headers, body }))),
      );
    }
    for (const response of await Promise.all(batch)) {
      if (response.status !== 202) failed++;
      await response.body?.cancel();
    }
  }
  return { ms: performance.now() - started, failed };
}

const mode = process.argv[2];
let provider: ActionProvider | undefined;
let token: string | undefined;

if (mode === 'hono') {
  send({ type: 'ready', port: await startHono() });
} else if (mode === 'provider') {
  const dev = await devAuth();
  provider = echoProvider({ auth: dev.auth, logger: silentLogger });
  // BENCH_ADAPTER=hono-serve: @hono/node-server's serve(), which replaces the global Request and
  // Response with its lightweight ones (adapters/node.ts deliberately leaves globals alone).
  const port =
    process.env['BENCH_ADAPTER'] === 'hono-serve'
      ? await new Promise<number>((resolve) => {
          const p = provider as ActionProvider;
          honoServe({ fetch: (request) => p.fetch(request), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
            resolve(info.port),
          );
        })
      : (await serve(provider, { port: 0, handleSignals: false })).port;
  token = await dev.mint(crypto.randomUUID(), ECHO_SCOPE);
  send({ type: 'ready', port, token });
} else {
  throw new Error(`usage: server.ts hono|provider (got ${String(mode)})`);
}

// The parent went away (finished or crashed): nothing to serve any more.
process.once('disconnect', () => process.exit(0));

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'rss': {
      forcedGc();
      const { rss, heapUsed } = process.memoryUsage();
      send({ type: 'rss', rss, heapUsed });
      break;
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
      break;
    }
    case 'fill': {
      if (provider === undefined || token === undefined) throw new Error('fill: not a provider process');
      void fill(provider, token, message.count).then(({ ms, failed }) =>
        send({ type: 'filled', count: message.count, ms, failed }),
      );
      break;
    }
    case 'exit':
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      process.exit(0);
  }
});
