/**
 * @module test/health-routes: the `health` option of every adapter, over real HTTP: `/livez`
 * (200 at once) and `/readyz` (`provider.health()`, 503 when it fails) outside the prefix, with
 * the provider's own routes unchanged; HEAD without a body; other methods the JSON 405 with
 * `Allow`; hostile requests (`/readyz/extra`, a huge query string, TRACE, a body) never a 500;
 * and the option checked at creation. On Node (`serve` and `nodeListener`), Express
 * (`expressHealth`), AWS Lambda (an ALB's health check), Bun, Deno and workerd (D1).
 */
import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaHandler } from '../adapters/aws-lambda.ts';
import { worker } from '../adapters/cloudflare-workers.ts';
import { expressHealth, expressMiddleware } from '../adapters/express.ts';
import { nodeListener, serve } from '../adapters/node.ts';
import { memoryStore } from '../src/index.ts';
import { expectReadiness, probe, serveWithHealth } from './support/health.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv } from './support/identities.ts';
import { lambdaHost } from './support/lambda.ts';
import { BIN, spawnHost } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { wrap } from './support/stores.ts';
import { exchange, head } from './support/wire.ts';

/** A provider whose store fails, so that readiness fails. */
const failingProvider = () =>
  testProvider({
    store: wrap(memoryStore(), {
      get: async () => {
        throw new Error('the database is down');
      },
    }),
  });

/** What every adapter answers on the health paths, and beside them, with the provider under `prefix`. */
async function expectRoutes(origin: string, prefix: string): Promise<void> {
  const live = await probe(origin, '/livez');
  expect(live.status).toBe(200);
  expect(live.body).toEqual({ status: 'pass' });
  expect(live.headers.get('cache-control')).toBe('no-store');
  expectReadiness(await probe(origin, '/readyz'), 'pass');
  // Query strings are not part of the path.
  expectReadiness(await probe(origin, `/readyz?probe=1&${'x'.repeat(4_000)}`), 'pass');

  for (const path of ['/livez', '/readyz']) {
    const headReply = await probe(origin, path, 'HEAD');
    expect(headReply.status).toBe(200);
    expect(headReply.body).toBeUndefined();
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const refused = await probe(origin, path, method);
      expect(refused.status, `${method} ${path}`).toBe(405);
      expect(refused.body.code).toBe('MethodNotAllowed');
      expect(refused.headers.get('allow')).toBe('GET, HEAD');
    }
  }
  // Beside the routes: what the provider answers outside (or inside) its prefix, never a 500.
  for (const path of ['/readyz/extra', '/livez/', '/readyzz', '/read%79z', '/health']) {
    const beside = await probe(origin, path);
    expect(beside.status, path).toBe(404);
    expect(beside.body.code).toBe('ActionNotFound');
  }
  const introspection = await probe(origin, `${prefix}/`);
  expect(introspection.status).toBe(200);
  expect(introspection.body.types).toEqual(['ACTION']);
}

describe('Node: serve()', () => {
  it('serves the routes outside the prefix, the provider inside it', async () => {
    await expectRoutes(await serveWithHealth(testProvider()), '/echo');
  });

  it('answers 503 when readiness fails, while liveness stays 200', async () => {
    const origin = await serveWithHealth(failingProvider());
    const report = expectReadiness(await probe(origin), 'fail');
    expect(report.checks.store.error).toBe('the database is down');
    expect((await probe(origin, '/readyz', 'HEAD')).status).toBe(503);
    expect((await probe(origin, '/livez')).status).toBe(200);
  });

  it('takes other paths, and serves at the root beside a provider without a prefix', async () => {
    const server = await serve(testProvider(), {
      port: 0,
      handleSignals: false,
      sweepInterval: 0,
      health: { live: '/health/live', ready: 'health/ready/' },
    });
    try {
      expect((await probe(server.url, '/health/live')).status).toBe(200);
      expectReadiness(await probe(server.url, '/health/ready'), 'pass');
      expect((await probe(server.url, '/livez')).status).toBe(404);
      expect((await probe(server.url, '/')).body.types).toEqual(['ACTION']);
    } finally {
      await server.close();
    }
  });

  it('hostile requests on the health paths: TRACE, a body, a query string too large, never a 500', async () => {
    const origin = await serveWithHealth(testProvider());
    const { port } = new URL(origin);
    const trace = await exchange(Number(port), head('TRACE', '/readyz'));
    expect(trace.status).toBe(405);
    expect(trace.body.code).toBe('MethodNotAllowed');
    const withBody = await exchange(
      Number(port),
      'POST /readyz HTTP/1.1\r\nhost: h\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}',
    );
    expect(withBody.status).toBe(405);
    const huge = await probe(origin, `/readyz?${'q'.repeat(100_000)}`);
    expect(huge.status).toBe(400);
    expect(huge.body.code).toBe('BadActionRequest');
    // The path as it came: an encoded one is no health route, as on every adapter.
    expect((await probe(origin, '/read%79z')).status).toBe(404);
    expect((await probe(origin, '/readyz')).status).toBe(200);
  });

  it('checks the option at creation: a path in the prefix or among the provider routes, a bad value', async () => {
    const provider = testProvider();
    const bad: [Parameters<typeof serve>[1], RegExp][] = [
      [
        { prefix: '/echo', health: { ready: '/echo/ready' } },
        /health.ready: \/echo\/ready is a path the provider serves/,
      ],
      [{ prefix: '/echo', health: { live: '/echo' } }, /health.live: \/echo is a path the provider serves/],
      [{ health: { ready: '/run' } }, /health.ready: \/run is a path the provider serves \(prefix \/\)/],
      [{ health: { ready: '/actions/x' } }, /health.ready/],
      [{ health: { live: '/abc/status' } }, /health.live/],
      [{ health: { live: '/' } }, /health.live: must not be \//],
      [{ health: { live: '/a', ready: '/a' } }, /live and ready must be different/],
      [{ health: { ready: '/r?x' } }, /health.ready: a path, without \? or #/],
      [{ health: { ready: 3 as never } }, /health.ready: must be a path/],
      [{ health: { timeout: 0 } }, /health.timeout: must be a number of ms/],
      [{ health: 'yes' as never }, /health: must be true, or/],
    ];
    for (const [options, message] of bad) {
      await expect(serve(provider, { port: 0, handleSignals: false, ...options })).rejects.toThrow(message);
    }
    // A handler that is no provider has no readiness to report.
    await expect(
      serve({ fetch: () => new Response('hi') }, { port: 0, handleSignals: false, health: true }),
    ).rejects.toThrow(/health: the provider has no health\(\)/);
    expect(() => worker(provider, { prefix: '/echo', health: { live: '/echo/live' } })).toThrow(/health.live/);
    expect(() => lambdaHandler(provider, { health: { ready: '/run' } })).toThrow(/health.ready/);
    expect(() => expressHealth(provider, { live: '/' })).toThrow(/health.live/);
  });
});

describe('Node: nodeListener() in a host server', () => {
  it('serves the routes beside the provider', async () => {
    const server = createServer(nodeListener(testProvider(), { prefix: '/echo', health: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      await expectRoutes(`http://127.0.0.1:${port}`, '/echo');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Express: expressHealth()', () => {
  it('at the root, beside the mount and the host routes, after host body parsers', async () => {
    const provider = testProvider();
    const app = express();
    app.use(express.json());
    app.use(expressHealth(provider));
    app.use('/echo', expressMiddleware(provider));
    app.get('/host-route', (_req, res) => void res.json({ host: true }));
    app.use((_req, res) => void res.status(404).json({ code: 'ActionNotFound', description: 'host 404' }));
    const host = await listenNode(app);
    try {
      await expectRoutes(host.url, '/echo');
      // The host's own route is untouched: everything else goes on with next().
      const hosts = await fetch(`${host.url}/host-route`).then((r) => r.json());
      expect(hosts).toEqual({ host: true });
    } finally {
      await host.stop();
    }
  });

  it('under a mount of its own, and 503 when readiness fails', async () => {
    const app = express();
    app.use('/ops', expressHealth(failingProvider(), { live: '/alive', ready: '/ready' }));
    const host = await listenNode(app);
    try {
      expect((await probe(host.url, '/ops/alive')).status).toBe(200);
      expectReadiness(await probe(host.url, '/ops/ready'), 'fail');
    } finally {
      await host.stop();
    }
  });
});

describe('AWS Lambda: an ALB health check', () => {
  it('serves the routes beside the provider', async () => {
    const host = await lambdaHost(lambdaHandler(testProvider(), { health: true }), 'alb');
    try {
      expect((await probe(host.url, '/livez')).body).toEqual({ status: 'pass' });
      expectReadiness(await probe(host.url, '/readyz'), 'pass');
      expect((await probe(host.url, '/readyz', 'POST')).status).toBe(405);
      expect((await probe(host.url, '/')).body.types).toEqual(['ACTION']);
    } finally {
      await host.stop();
    }
  });
});

const RUNTIMES: [string, () => Promise<Host>][] = [
  ['Bun', () => spawnHost(BIN('bun'), ['test/fixtures/health-runtime.ts'])],
  [
    'Deno',
    () =>
      spawnHost(BIN('deno'), ['run', '--allow-net', '--allow-env', '--allow-read', 'test/fixtures/health-runtime.ts']),
  ],
  [
    'workerd (D1)',
    async () => {
      const host = await startWorker('test/fixtures/health-worker.ts', await exampleEnv(), ['DB']);
      return { url: `${host.url}/p`, stop: host.stop };
    },
  ],
];

describe.each(RUNTIMES)('%s', (_name, startHost) => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost();
  }, 90_000);
  afterAll(() => host?.stop());

  it('serves the routes outside the prefix, the provider inside it', async () => {
    const url = new URL(host.url);
    await expectRoutes(url.origin, url.pathname.replace(/\/$/, ''));
    const report = expectReadiness(await probe(url.origin), 'pass');
    expect(report.checks.store.status).toBe('pass');
  });
});
