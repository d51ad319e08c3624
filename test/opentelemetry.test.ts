/**
 * @module test/opentelemetry: `openTelemetry()` on the SDK's in-memory span exporter and a
 * metric reader collected by hand, with AsyncLocalStorage as the context manager (as the Node
 * SDK sets it), over real HTTP: a provider on `globusAuth` against the fake Globus (its own
 * port) and SQLite. The server span and its attributes, the introspection and store spans under
 * it, the caller's `traceparent` as its parent, the request id from its trace, the metrics of
 * requests, Globus calls, token caches, background work and actions by status; and that the
 * package never loads `@opentelemetry/api` without the option.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createActionProvider, globusAuth, type ProviderOptions, silentLogger } from '../src/index.ts';
import { openTelemetry } from '../src/opentelemetry/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { actionClient, fakeGlobus } from '../src/testing/index.ts';
import { listen as listenOnPort } from '../src/testing/node.ts';
import { until } from './support/async.ts';
import { harness, startGlobus } from './support/globus.ts';
import { startWorker } from './support/hosts.ts';
import { SCOPE, USERS } from './support/identities.ts';
import { counterValue, histogramCount, inMemoryOtel, useAsyncContext } from './support/otel.ts';
import { ROOT } from './support/processes.ts';
import { description, testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

useAsyncContext();

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const sqliteFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-otel-'));
  dirs.push(dir);
  return join(dir, 'actions.db');
};

/** A globusAuth provider on SQLite with `openTelemetry()` on the in-memory SDK, both on real ports. */
async function traced(provider: Partial<ProviderOptions> = {}) {
  const otel = inMemoryOtel();
  const store = await openSqliteStore(sqliteFile());
  const h = await harness({ provider: { store, telemetry: otel.telemetry, ...provider } });
  onTestFinished(() => h.provider.close());
  return { ...h, otel };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe('traces', () => {
  it('a run: the server span with the HTTP attributes, the introspection and store spans under it', async () => {
    const h = await traced();
    const token = h.token(USERS.creator);
    const response = await fetch(`${h.providerUrl}/run?secret=do-not-record`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'otel-test/1' },
      body: JSON.stringify({ request_id: 'r1', body: {} }),
    });
    expect(response.status).toBe(202);
    const actionId = ((await response.json()) as { action_id: string }).action_id;

    const server = h.otel.span('POST /run');
    const port = Number(new URL(h.providerUrl).port);
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/run',
      'globus_action_provider.operation': 'run',
      'url.scheme': 'http',
      'url.path': '/run',
      'server.address': '127.0.0.1',
      'server.port': port,
      'user_agent.original': 'otel-test/1',
      'http.response.status_code': 202,
      'globus_action_provider.action_id': actionId,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.parentSpanContext).toBeUndefined();
    // Neither the token nor the query string is anywhere in the spans.
    expect(JSON.stringify(h.otel.spans().map((s) => s.attributes))).not.toMatch(new RegExp(`${token}|do-not-record`));
    // The request id answered is the span's trace id (the caller sent neither X-Request-Id nor traceparent).
    expect(response.headers.get('x-request-id')).toBe(server.spanContext().traceId);

    const introspection = h.otel.span('Globus Auth token introspection');
    const globusPort = Number(new URL(h.globusUrl).port);
    expect(introspection.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(introspection)).toBe(idOf(server));
    expect(introspection.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(introspection.attributes).toEqual({
      'globus_action_provider.globus.call': 'token introspection',
      'server.address': '127.0.0.1',
      'server.port': globusPort,
      'http.response.status_code': 200,
    });
    const create = h.otel.span('store create');
    expect(create.kind).toBe(SpanKind.INTERNAL);
    expect(create.attributes).toEqual({ 'db.operation.name': 'create' });
    expect(parentOf(create)).toBe(idOf(server));
  });

  it('status and enumerate: the route pattern names the span, the action id is an attribute', async () => {
    const h = await traced();
    const client = h.client(h.token(USERS.creator));
    const ran = await client.run({ request_id: 'r1', body: {} });
    const actionId = String(ran.body?.action_id);
    expect((await client.status(actionId)).status).toBe(200);
    expect((await client.enumerate()).status).toBe(200);

    const status = h.otel.span('GET /:id/status');
    expect(status.attributes).toMatchObject({
      'http.route': '/:id/status',
      'url.path': `/${actionId}/status`,
      'globus_action_provider.operation': 'status',
      'globus_action_provider.action_id': actionId,
      'http.response.status_code': 200,
    });
    const get = h.otel.spans().filter((s) => s.name === 'store get' && parentOf(s) === idOf(status));
    expect(get).toHaveLength(1);
    // The token was introspected for the run: status and enumerate call no Globus.
    expect(h.otel.spans().filter((s) => s.name === 'Globus Auth token introspection')).toHaveLength(1);
    const enumerate = h.otel.span('GET /actions');
    expect(enumerate.attributes).toMatchObject({
      'globus_action_provider.operation': 'enumerate',
      'http.route': '/actions',
    });
    expect(enumerate.attributes['globus_action_provider.action_id']).toBeUndefined();
    expect(h.otel.spans().filter((s) => s.name === 'store list' && parentOf(s) === idOf(enumerate))).toHaveLength(1);
  });

  it('a 404 and a 401 are no errors on a server span; the error code is an attribute', async () => {
    const h = await traced();
    expect((await h.raw('GET', '/no/such/route')).status).toBe(404);
    expect((await h.raw('GET', '/no-such-action/status', { token: h.token(USERS.creator) })).status).toBe(404);
    expect((await h.raw('GET', '/some-id/status', { token: 'not-a-token' })).status).toBe(401);
    expect((await h.raw('GET', '/some-id/status')).status).toBe(401);

    // No route: the span is named by the method alone, with neither route nor operation.
    const unrouted = h.otel.span('GET');
    expect(unrouted.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/no/such/route',
      'http.response.status_code': 404,
    });
    expect(unrouted.attributes['http.route']).toBeUndefined();
    expect(unrouted.attributes['globus_action_provider.operation']).toBeUndefined();
    expect(unrouted.status.code).toBe(SpanStatusCode.UNSET);
    const [missing, inactive, anonymous] = h.otel.spans().filter((s) => s.name === 'GET /:id/status') as [
      ReadableSpan,
      ReadableSpan,
      ReadableSpan,
    ];
    expect(missing.attributes).toMatchObject({
      'http.response.status_code': 404,
      'globus_action_provider.error_code': 'ActionNotFound',
    });
    for (const span of [inactive, anonymous]) {
      expect(span.attributes).toMatchObject({
        'http.response.status_code': 401,
        'globus_action_provider.error_code': 'UnauthorizedRequest',
      });
    }
    for (const span of [unrouted, missing, inactive, anonymous]) {
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    // Each token was introspected under its own request's span; no token, no call.
    const introspections = h.otel.spans().filter((s) => s.name === 'Globus Auth token introspection');
    expect(introspections.map(parentOf)).toEqual([idOf(missing), idOf(inactive)]);
  });

  it("the caller's traceparent is the parent, and its trace id the request id", async () => {
    const h = await traced();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const response = await fetch(`${h.providerUrl}/`, {
      headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=value' },
    });
    expect(response.status).toBe(200);
    const span = h.otel.span('GET /');
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext).toMatchObject({ traceId, spanId: parentId, isRemote: true });
    expect(span.spanContext().traceState?.get('vendor')).toBe('value');
    expect(span.attributes['globus_action_provider.operation']).toBe('introspect');
    expect(response.headers.get('x-request-id')).toBe(traceId);

    // An invalid one is ignored: a new trace, and a request id of its own.
    const bad = await fetch(`${h.providerUrl}/`, { headers: { traceparent: `00-${'0'.repeat(32)}-${parentId}-01` } });
    const spans = h.otel.spans().filter((s) => s.name === 'GET /');
    const second = spans[1] as ReadableSpan;
    expect(second.parentSpanContext).toBeUndefined();
    expect(bad.headers.get('x-request-id')).toBe(second.spanContext().traceId);
  });

  it('inside a host already traced, the provider span is an INTERNAL child of the host span', async () => {
    const h = await traced();
    const tracer = h.otel.tracerProvider.getTracer('host');
    const reply = await tracer.startActiveSpan('host request', { kind: SpanKind.SERVER }, async (host) => {
      try {
        return await h.provider.fetch(
          new Request('http://provider.test/', {
            headers: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
          }),
        );
      } finally {
        host.end();
      }
    });
    expect(reply.status).toBe(200);
    const host = h.otel.span('host request');
    const span = h.otel.span('GET /');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(parentOf(span)).toBe(idOf(host));
    expect(span.spanContext().traceId).toBe(host.spanContext().traceId);
  });

  it('a failing Globus: the introspection span and the server span are errors, the failure counted', async () => {
    const otel = inMemoryOtel();
    const globus = fakeGlobus();
    const globusServer = await listenOnPort(globus.app);
    const provider = createActionProvider({
      description: description(),
      auth: globusAuth({ ...globus.authOptions(globusServer.url), timeout: 2_000 }),
      logger: silentLogger,
      run: () => ({ status: 'ACTIVE' }),
      telemetry: otel.telemetry,
    });
    const server = await listen(provider);
    onTestFinished(() => server.close());
    const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    await globusServer.close();

    const reply = await actionClient(server.url, { token }).enumerate();
    expect(reply.status).toBe(503);
    const span = otel.span('GET /actions');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': 'ServiceUnavailable' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    const introspection = otel.span('Globus Auth token introspection');
    expect(introspection.status.code).toBe(SpanStatusCode.ERROR);
    expect(introspection.attributes['error.type']).toBe('ECONNREFUSED');
    expect(parentOf(introspection)).toBe(idOf(span));

    const failures = await otel.points('globus_action_provider.globus.call.failures');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.attributes).toEqual({
      'globus_action_provider.globus.call': 'token introspection',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(globusServer.url).port),
      'error.type': 'ECONNREFUSED',
    });
    expect(failures[0]?.value).toBe(1);
    const requests = await otel.points<Histogram>('http.server.request.duration');
    expect(histogramCount(requests, { 'http.response.status_code': 503, 'error.type': 'ServiceUnavailable' })).toBe(1);
  });

  it('a Globus 5xx: the failure is counted by its status', async () => {
    const h = await traced();
    h.globus.fail('introspect', { status: 502 });
    expect((await h.client(h.token(USERS.creator)).enumerate()).status).toBe(503);
    const failures = await h.otel.points('globus_action_provider.globus.call.failures');
    expect(counterValue(failures, { 'error.type': '502' })).toBe(1);
    const durations = await h.otel.points<Histogram>('globus_action_provider.globus.call.duration');
    expect(
      histogramCount(durations, { 'globus_action_provider.globus.call': 'token introspection', 'error.type': '502' }),
    ).toBe(1);
  });
});

describe('metrics', () => {
  it('requests by operation and status, their durations, Globus calls and token cache lookups', async () => {
    const h = await traced();
    const client = h.client(h.token(USERS.creator));
    const ran = await client.run({ request_id: 'r1', body: {} });
    expect(ran.status).toBe(202);
    const actionId = String(ran.body?.action_id);
    for (let i = 0; i < 3; i++) expect((await client.status(actionId)).status).toBe(200);
    expect((await client.status('no-such-action')).status).toBe(404);
    expect((await h.raw('GET', '/some-id/status')).status).toBe(401);

    const requests = await h.otel.points<Histogram>('http.server.request.duration');
    const count = (operation: string, status: number) =>
      histogramCount(requests, { 'globus_action_provider.operation': operation, 'http.response.status_code': status });
    expect(count('run', 202)).toBe(1);
    expect(count('status', 200)).toBe(3);
    expect(count('status', 404)).toBe(1);
    expect(count('status', 401)).toBe(1);
    const statusPoint = requests.find(
      (p) => p.attributes['http.response.status_code'] === 200 && p.attributes['http.route'] === '/:id/status',
    );
    expect(statusPoint?.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/:id/status',
      'globus_action_provider.operation': 'status',
      'http.response.status_code': 200,
      'url.scheme': 'http',
    });
    expect(statusPoint?.value.sum).toBeGreaterThan(0);

    const lookups = await h.otel.points('globus_action_provider.token_cache.lookups');
    const introspection = (hit: boolean) =>
      counterValue(lookups, {
        'globus_action_provider.token_cache.name': 'introspection',
        'globus_action_provider.token_cache.hit': hit,
      });
    expect(introspection(false)).toBe(1);
    expect(introspection(true)).toBe(4);

    const globus = await h.otel.points<Histogram>('globus_action_provider.globus.call.duration');
    expect(
      histogramCount(globus, {
        'globus_action_provider.globus.call': 'token introspection',
        'http.response.status_code': 200,
      }),
    ).toBe(1);
    expect(await h.otel.points('globus_action_provider.globus.call.failures')).toEqual([]);
  });

  it('actions by status, counted when the metrics are collected', async () => {
    const h = await traced();
    const client = h.client(h.token(USERS.creator));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(String((await client.run({ request_id: `r${i}`, body: {} })).body?.action_id));
    expect((await client.cancel(ids[0] as string)).status).toBe(200);
    const gauge = await h.otel.points('globus_action_provider.actions');
    const by = (status: string) => counterValue(gauge, { 'globus_action_provider.action.status': status });
    expect([by('ACTIVE'), by('FAILED'), by('SUCCEEDED'), by('INACTIVE')]).toEqual([2, 1, 0, 0]);
  });

  it('background work: queued, running, retries and attempt durations by outcome', async () => {
    let attempts = 0;
    const h = await traced({
      worker: { heartbeat: 50, lease: 500, retryDelay: 10, pollInterval: 20, shutdownGrace: 200 },
      work: async ({ attempt }) => {
        attempts++;
        if (attempt === 1) throw new Error('the first attempt fails');
        return { status: 'SUCCEEDED', details: { attempt } };
      },
    });
    const client = h.client(h.token(USERS.creator));
    const actionId = String((await client.run({ request_id: 'w1', body: {} })).body?.action_id);
    await until(async () => ((await client.status(actionId)).body?.status === 'SUCCEEDED' ? true : undefined));
    // The attempt's end is reported once its bookkeeping is over, just after the status changes.
    const durations = await until(async () => {
      const points = await h.otel.points<Histogram>('globus_action_provider.work.attempt.duration');
      return histogramCount(points, { 'globus_action_provider.work.outcome': 'completed' }) === 1 ? points : undefined;
    });
    expect(attempts).toBe(2);
    expect(histogramCount(durations, { 'globus_action_provider.work.outcome': 'retry' })).toBe(1);
    expect(counterValue(await h.otel.points('globus_action_provider.work.queued'), {})).toBe(1);
    expect(counterValue(await h.otel.points('globus_action_provider.work.retries'), {})).toBe(1);
    expect(counterValue(await h.otel.points('globus_action_provider.work.running'), {})).toBe(0);
    const gauge = await h.otel.points('globus_action_provider.actions');
    expect(counterValue(gauge, { 'globus_action_provider.action.status': 'SUCCEEDED' })).toBe(1);
  });
});

interface WorkerSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: SpanStatusCode;
}

describe('on workerd, with @opentelemetry/api and sdk-trace-base only (no propagator registered)', () => {
  it.each([
    ['a context manager on AsyncLocalStorage (nodejs_als): the calls nest under the request', 'als'],
    ['no context manager: the server span and its parent still, the Globus call a trace of its own', 'none'],
  ])(
    '%s',
    async (_name, manager) => {
      const { globus, url } = await startGlobus();
      const worker = await startWorker(
        'test/fixtures/opentelemetry-worker.ts',
        { AUTH_OPTIONS: JSON.stringify(globus.authOptions(url)), SCOPE, CONTEXT: manager },
        [],
        { compatibilityFlags: ['nodejs_als'] },
      );
      onTestFinished(() => worker.stop());
      const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const parentId = 'b7ad6b7169203331';
      const response = await fetch(`${worker.url}/actions`, {
        headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parentId}-01` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe(traceId);

      const spans = (await (await fetch(`${worker.url}/__spans`)).json()) as WorkerSpan[];
      const named = (name: string) => spans.filter((span) => span.name === name);
      const [server] = named('GET /actions') as [WorkerSpan];
      expect(server).toMatchObject({
        kind: SpanKind.SERVER,
        traceId,
        parentSpanId: parentId,
        status: SpanStatusCode.UNSET,
      });
      expect(server.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/actions',
        'url.path': '/actions',
        'url.scheme': 'http',
        'http.response.status_code': 200,
        'globus_action_provider.operation': 'enumerate',
      });
      const [introspection] = named('Globus Auth token introspection') as [WorkerSpan];
      expect(introspection.kind).toBe(SpanKind.CLIENT);
      expect(introspection.attributes['http.response.status_code']).toBe(200);
      if (manager === 'als') {
        expect(introspection).toMatchObject({ traceId, parentSpanId: server.spanId });
        expect(named('store list')).toMatchObject([{ traceId, parentSpanId: server.spanId }]);
      } else {
        expect(introspection.parentSpanId).toBeUndefined();
        expect(introspection.traceId).not.toBe(traceId);
        // A store call is traced only under a request's span, which it cannot see here.
        expect(named('store list')).toEqual([]);
      }
    },
    60_000,
  );
});

describe('openTelemetry() itself', () => {
  it('checks its options at creation, naming the option', () => {
    expect(() => openTelemetry(null as never)).toThrow(TypeError);
    expect(() => openTelemetry({ tracerProvider: {} as never })).toThrow(/^tracerProvider: /);
    expect(() => openTelemetry({ meterProvider: 'x' as never })).toThrow(/^meterProvider: /);
    expect(() => openTelemetry({ propagator: {} as never })).toThrow(/^propagator: /);
  });

  it('uses the propagator it is given; one that throws costs the request its parent, not its answer', async () => {
    const otel = inMemoryOtel();
    const seen: string[] = [];
    const propagator = {
      inject: () => {},
      fields: () => ['x-trace'],
      extract: (_context: unknown, headers: Headers) => {
        seen.push(String(headers.get('x-trace')));
        throw new Error('a propagator that chokes');
      },
    };
    const provider = testProvider({
      telemetry: openTelemetry({ tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider, propagator }),
    });
    const reply = await provider.fetch(new Request('http://provider.test/', { headers: { 'x-trace': 'abc' } }));
    expect(reply.status).toBe(200);
    expect(seen).toEqual(['abc']);
    expect(otel.span('GET /').parentSpanContext).toBeUndefined();
  });

  it('uses the global tracer provider by default, even one registered after it was made', async () => {
    const telemetry = openTelemetry();
    const otel = inMemoryOtel();
    expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true);
    onTestFinished(() => trace.disable());
    const provider = testProvider({ telemetry });
    const reply = await provider.fetch(new Request('http://provider.test/'));
    expect(reply.status).toBe(200);
    expect(otel.span('GET /').attributes['globus_action_provider.operation']).toBe('introspect');
  });

  it('is the only module that imports @opentelemetry/api: without the option the package never loads it', async () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const importing = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'adapters'))]
      .filter((file) => /from '@opentelemetry\/|import\('@opentelemetry\//.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(importing.length).toBeGreaterThan(0);
    for (const file of importing) expect(file).toMatch(/^src\/opentelemetry\//);
    // And a bundle of the main entry and the adapters has none of it.
    const { build } = await import('esbuild');
    const bundle = await build({
      stdin: {
        contents: ["export * from './src/index.ts';", "export * from './adapters/cloudflare-workers.ts';"].join('\n'),
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      conditions: ['workerd', 'worker'],
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(bundle.metafile.inputs).filter((input) => input.includes('@opentelemetry'))).toEqual([]);
  });
});
