/**
 * @module test/bench/server: the server side of the benchmark, run as a child process of
 * test/bench/core.ts (never on its own). One process serves one thing:
 *
 * - `hono`: a bare Hono app with one `GET` route per body in `BENCH_ROUTES` (a JSON object of
 *   path → JSON value) and `POST /post`, which parses the JSON body it is sent and answers
 *   `BENCH_POST_BODY` with 202, served with @hono/node-server's `serve()`;
 * - `provider`: the echo provider (examples/echo.ts) with the dev authenticator, a silent logger
 *   and the store `BENCH_STORE` names (`memory`, or `sqlite`: a file in a temporary directory at
 *   the default `synchronous=FULL`), served twice by the library's own adapter (adapters/node.ts):
 *   without a prefix and under `BENCH_PREFIX`. With `BENCH_WORK=1` its run answers ACTIVE and
 *   schedules background work (stored in the same transaction), which then answers SUCCEEDED:
 *   what a run that schedules work costs over one that does not. With `BENCH_OTEL=sdk` it has
 *   `openTelemetry()` on the OpenTelemetry SDK registered as production would (global tracer
 *   and meter providers, AsyncLocalStorage context manager, a BatchSpanProcessor, a periodic
 *   metric reader) with exporters that drop what they are given: what telemetry costs the
 *   provider, without the cost of any backend.
 *
 * It talks to the parent over the IPC channel: `ready` (ports, and a token for the provider),
 * then answers `rss` (after a forced GC; needs --expose-gc), `cpu` (process CPU time, and the
 * event loop's delay since the last `cpu`), `fill` (create actions in-process through
 * `provider.fetch`), and exits on `exit`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serve as honoServe } from '@hono/node-server';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Hono } from 'hono';
import { serve } from '../../adapters/node.ts';
import { ECHO_SCOPE, echoProvider } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import {
  type ActionProvider,
  type ActionStore,
  createActionProvider,
  silentLogger,
  type Telemetry,
} from '../../src/index.ts';

export type ToChild = { type: 'rss' } | { type: 'cpu' } | { type: 'fill'; count: number } | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; port: number; prefixedPort?: number; token?: string }
  | { type: 'rss'; rss: number; heapUsed: number }
  /** CPU time; the event loop's delay (ms) since the previous `cpu`: its 99th percentile and maximum. */
  | { type: 'cpu'; micros: number; loopP99: number; loopMax: number }
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
  const posted = JSON.parse(process.env['BENCH_POST_BODY'] ?? '{}') as object;
  const app = new Hono();
  for (const [path, body] of Object.entries(routes)) {
    const obj = body as object;
    app.get(path, (c) => c.json(obj));
  }
  // What any POST handler does at the least: read and parse the JSON body, answer JSON.
  app.post('/post', async (c) => {
    await c.req.json();
    return c.json(posted, 202);
  });
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

/** The store BENCH_STORE names, and how to remove its files. */
async function openStore(): Promise<{ store?: ActionStore; remove(): void }> {
  const kind = process.env['BENCH_STORE'] ?? 'memory';
  if (kind === 'memory') return { remove: () => {} };
  if (kind !== 'sqlite') throw new Error(`BENCH_STORE: memory or sqlite, not ${kind}`);
  const { openSqliteStore } = await import('../../src/store/sqlite.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gap-bench-'));
  return { store: await openSqliteStore(join(dir, 'actions.db')), remove: () => rmSync(dir, { recursive: true }) };
}

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
let removeStore = () => {};

/** The OpenTelemetry SDK registered globally with no-op exporters, and `openTelemetry()` on it. */
async function sdkTelemetry(): Promise<Telemetry> {
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
  const { openTelemetry } = await import('../../src/opentelemetry/index.ts');
  const SUCCESS = 0; // ExportResultCode.SUCCESS (@opentelemetry/core)
  const spans: SpanExporter = { export: (_spans, done) => done({ code: SUCCESS }), shutdown: async () => {} };
  const points: PushMetricExporter = {
    export: (_metrics, done) => done({ code: SUCCESS }),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] }));
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: points })] }),
  );
  return openTelemetry();
}

if (mode === 'hono') {
  send({ type: 'ready', port: await startHono() });
} else if (mode === 'provider') {
  const dev = await devAuth();
  const { store, remove } = await openStore();
  removeStore = remove;
  const otel = process.env['BENCH_OTEL'] ?? 'none';
  if (otel !== 'none' && otel !== 'sdk') throw new Error(`BENCH_OTEL: none or sdk, not ${otel}`);
  const telemetry = otel === 'sdk' ? await sdkTelemetry() : undefined;
  const echo = echoProvider({
    serverTiming: false,
    auth: dev.auth,
    logger: silentLogger,
    ...(store ? { store } : {}),
    ...(telemetry ? { telemetry } : {}),
  });
  provider =
    process.env['BENCH_WORK'] === '1'
      ? createActionProvider({
          description: {
            title: 'Echo in the background',
            globus_auth_scope: ECHO_SCOPE,
            admin_contact: 'admin@example.org',
          },
          auth: dev.auth,
          logger: silentLogger,
          ...(store ? { store } : {}),
          ...(telemetry ? { telemetry } : {}),
          run: () => ({ status: 'ACTIVE' }),
          work: ({ action }) => ({ status: 'SUCCEEDED', details: { you_said: action.request.body['input_string'] } }),
        })
      : echo;
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
  const prefix = process.env['BENCH_PREFIX'] ?? '/skeleton';
  // The same provider again under the prefix (its sweeper already runs on the first server).
  const prefixedPort = (await serve(provider, { port: 0, handleSignals: false, sweepInterval: 0, prefix })).port;
  token = await dev.mint({ identity: crypto.randomUUID(), scope: ECHO_SCOPE });
  send({ type: 'ready', port, prefixedPort, token });
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
      const ms = (ns: number) => ns / 1e6;
      send({ type: 'cpu', micros: user + system, loopP99: ms(loop.percentile(99)), loopMax: ms(loop.max) });
      loop.reset();
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
      removeStore();
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      process.exit(0);
  }
});
