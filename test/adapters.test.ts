/**
 * @module test/adapters: what each adapter promises beyond the conformance suite: prefixes,
 * graceful shutdown, default exports on Bun and Deno, Workers' waitUntil and per-isolate build,
 * and an Express host's own routes, parsers and error handling left intact.
 */

import { getRequestListener } from '@hono/node-server';
import express, { type ErrorRequestHandler } from 'express';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { expressMiddleware } from '../adapters/express.ts';
import { serve } from '../adapters/node.ts';
import { normalisePrefix, withPrefix } from '../adapters/prefix.ts';
import { actionClient, type ClientReply } from '../src/testing/index.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv, mint, SCOPE, USERS } from './support/identities.ts';
import { freePort } from './support/ports.ts';
import { BIN, spawnHost, spawnProcess } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0)) await stop();
});

/** Introspect `url` through the library's client as soon as something listens there. */
async function introspectOnceUp(url: string, timeoutMs = 30_000): Promise<ClientReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await actionClient(url).introspect();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('prefix helper', () => {
  it('normalises prefixes', () => {
    expect(normalisePrefix(undefined)).toBe('');
    expect(normalisePrefix('/')).toBe('');
    expect(normalisePrefix('api/echo/')).toBe('/api/echo');
    expect(() => normalisePrefix(5 as unknown as string)).toThrow(TypeError);
  });
  it.each([
    ['a provider (its own at())', () => testProvider()],
    ['any other fetch handler (a copy of the request without the prefix)', () => ({ fetch: testProvider().fetch })],
  ])('%s: serves introspection at /prefix and /prefix/, and JSON 404 outside', async (_name, make) => {
    const fetchUnder = withPrefix(make(), '/tools/echo');
    for (const path of ['/tools/echo', '/tools/echo/', '/tools/echo?x=1']) {
      const response = await fetchUnder(new Request(`http://h${path}`));
      expect(response.status).toBe(200);
      expect((await response.json()).title).toBe('Test provider');
    }
    for (const path of ['/tools/echoes', '/tools', '/', '/run', '/x/tools/echo']) {
      const outside = await fetchUnder(new Request(`http://h${path}`));
      expect(outside.status).toBe(404);
      expect(await outside.json()).toEqual({ code: 'ActionNotFound', description: 'No such route' });
    }
    const wrongMethod = await fetchUnder(new Request('http://h/tools/echo/run/'));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('keeps a wrapped fetch in front: a copy of the provider with its own fetch is not routed past it', async () => {
    const provider = testProvider();
    const seen: string[] = [];
    const wrapped = {
      ...provider,
      fetch: (request: Request) => {
        seen.push(new URL(request.url).pathname);
        return provider.fetch(request);
      },
    };
    expect((await withPrefix(wrapped, '/p')(new Request('http://h/p/'))).status).toBe(200);
    expect((await withPrefix(wrapped, '')(new Request('http://h/'))).status).toBe(200);
    expect(seen).toEqual(['/', '/']);
  });

  it('refuses a prefix with ? or # when it is given, not per request', () => {
    const provider = testProvider();
    expect(() => provider.at('/p?x')).toThrow(/^prefix: /);
    expect(() => withPrefix(provider, 'a#b')).toThrow(/^prefix: /);
  });
});

describe('Node adapter', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])(
    'rejects shutdownGrace %s before listening',
    async (grace) => {
      await expect(serve(testProvider(), { port: 0, handleSignals: false, shutdownGrace: grace })).rejects.toThrow(
        /^shutdownGrace: /,
      );
    },
  );

  it('finishes requests in flight on close, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const provider = testProvider({
      run: async () => {
        await gate;
        return { status: 'SUCCEEDED' };
      },
    });
    const server = await serve(provider, { port: 0, handleSignals: false, prefix: '/p' });
    const inFlight = actionClient(server.url, { token: await mint(USERS.creator) }).run({ body: {} });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(server.url)).rejects.toThrow();
    release();
    expect((await inFlight).status).toBe(202);
    await closed;
  });

  it('stops gracefully on SIGTERM with a request in flight', async () => {
    const host = await spawnHost(process.execPath, [
      '--import',
      'tsx',
      '-e',
      `
      import { serve } from './adapters/node.ts';
      import { createActionProvider, jwtAuth, silentLogger } from './src/index.ts';
      const provider = createActionProvider({
        description: { title: 'slow', globus_auth_scope: process.env.PROVIDER_SCOPE, admin_contact: 'a' },
        auth: jwtAuth({ jwks: JSON.parse(process.env.JWT_JWKS), issuer: process.env.JWT_ISSUER }), logger: silentLogger,
        run: async () => { await new Promise((r) => setTimeout(r, 500)); return { status: 'SUCCEEDED' }; },
      });
      const { url } = await serve(provider, { port: 0 });
      console.log('listening on ' + url + '/');
    `,
    ]);
    cleanup.push(() => host.kill());
    const inFlight = actionClient(host.url, { token: await mint(USERS.creator) }).run({ body: {} });
    await new Promise((resolve) => setTimeout(resolve, 150));
    host.child.kill('SIGTERM');
    const reply = await inFlight;
    expect(reply.status).toBe(202);
    expect(reply.body.status).toBe('SUCCEEDED');
    expect((await host.exited).code).toBe(0);
  });
});

describe('export default provider', () => {
  it('is served as it is by Bun', async () => {
    const port = await freePort();
    const bun = await spawnProcess(BIN('bun'), ['test/fixtures/default-export.ts'], { env: { PORT: String(port) } });
    cleanup.push(() => bun.kill());
    const reply = await introspectOnceUp(`http://127.0.0.1:${port}`);
    expect(reply.status).toBe(200);
    expect(reply.body.title).toBe('Default export');
  });
  it('is served as it is by `deno serve`', async () => {
    const port = await freePort();
    const deno = await spawnProcess(BIN('deno'), [
      'serve',
      '--allow-env',
      '--allow-read',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      'test/fixtures/default-export.ts',
    ]);
    cleanup.push(() => deno.kill());
    const reply = await introspectOnceUp(`http://127.0.0.1:${port}`);
    expect(reply.status).toBe(200);
    expect(reply.body.title).toBe('Default export');
  });
});

describe('Cloudflare Workers adapter (workerd)', () => {
  it('builds the provider once per isolate from bindings, serves under its prefix, and runs waitUntil work after the response', async () => {
    const env = await exampleEnv();
    const host: Host = await startWorker('test/fixtures/wait-until-worker.ts', {
      JWT_JWKS: env['JWT_JWKS'] ?? '',
      PROVIDER_SCOPE: SCOPE,
    });
    cleanup.push(() => host.stop());
    const client = actionClient(`${host.url}/ap`, { token: await mint(USERS.creator, { issuer: 'anyone' }) });
    const run = await client.run({ body: {} });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ status: 'ACTIVE', details: { queued: true } });
    let status = run.body.status;
    for (let i = 0; i < 50 && status !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await client.status(run.body.action_id)).body.status;
    }
    expect(status).toBe('SUCCEEDED');
    for (let i = 0; i < 3; i++) expect((await client.withToken(undefined).introspect()).body.title).toBe('builds=1');
    expect((await actionClient(host.url).introspect()).status).toBe(404);
  });
});

describe('Express adapter', () => {
  const host = async (configure: (app: express.Express) => void) => {
    const app = express();
    configure(app);
    const server = await listenNode(app);
    cleanup.push(() => server.stop());
    return {
      /** The host's own routes, and bytes the client does not send. */
      raw: rawCaller(server.url),
      /** The library's client on the provider mounted at `mount`, as the creator. */
      client: async (mount: string, routes: 'legacy' | 'actions' = 'legacy') =>
        actionClient(server.url + mount, { token: await mint(USERS.creator), routes }),
    };
  };

  it("leaves the host's routes, parsers and error handling intact", async () => {
    const { raw, client } = await host((app) => {
      app.use(express.json());
      app.post('/host/echo', (req, res) => void res.json({ host: req.body }));
      app.get('/host/boom', () => {
        throw new Error('host failure');
      });
      app.use('/ap', expressMiddleware(testProvider()));
      app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(418).json({ handledBy: 'host', message: error.message });
      });
    });
    expect((await raw('POST', '/host/echo', { body: { a: 1 } })).body).toEqual({ host: { a: 1 } });
    expect(await raw('GET', '/host/boom').then((r) => [r.status, r.body])).toEqual([
      418,
      { handledBy: 'host', message: 'host failure' },
    ]);
    const run = await (await client('/ap', 'actions')).run({ body: { x: 1 } });
    expect(run.status).toBe(202);
    expect(run.body.details).toEqual({ got: { x: 1 } });
  });

  it("answers a host parser's rejection under the mount with the provider's JSON errors", async () => {
    const { raw, client } = await host((app) => {
      app.use(express.json({ type: '*/*', limit: 1000 }));
      app.use('/ap', expressMiddleware(testProvider()));
    });
    const invalid = await raw('POST', '/ap/run', {
      token: await mint(USERS.creator),
      raw: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect([invalid.status, invalid.body]).toEqual([400, { code: 'BadActionRequest', description: 'Invalid JSON' }]);
    const large = await (await client('/ap')).run({ body: { pad: 'x'.repeat(5000) } });
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('PayloadTooLarge');
  });

  it("passes on errors whose type only looks like a parser's (an Object.prototype key) to the host", async () => {
    const { raw } = await host((app) => {
      app.use('/ap', (_req, _res, next) =>
        next(Object.assign(new Error('not a parser error'), { type: 'constructor' })),
      );
      app.use('/ap', expressMiddleware(testProvider()));
      app.use(
        ((error: Error, _req, res, _next) =>
          void res.status(418).json({ host: error.message })) satisfies ErrorRequestHandler,
      );
    });
    const reply = await raw('GET', '/ap/');
    expect([reply.status, reply.body]).toEqual([418, { host: 'not a parser error' }]);
  });

  it('reads a body the host left alone as a stream, and one consumed by other middleware as empty JSON, without hanging', async () => {
    const { client } = await host((app) => {
      app.use('/drained', (req, _res, next) => {
        req.resume();
        req.on('end', () => next());
      });
      app.use('/drained', expressMiddleware(testProvider()));
      app.use('/ap', expressMiddleware(testProvider()));
    });
    const streamed = await (await client('/ap')).run({ body: { big: 'y'.repeat(200_000) } });
    expect(streamed.status).toBe(202);
    const drained = await (await client('/drained')).run({ body: {} });
    expect([drained.status, drained.body.code]).toEqual([400, 'BadActionRequest']);
  });
});

describe('Hono host', () => {
  it('serves the provider through route(), mount() and mount() of at() without a copy of the request', async () => {
    const provider = testProvider();
    const app = new Hono();
    app.route('/via-route', provider.app);
    app.mount('/via-mount', provider.fetch);
    app.mount('/via-at', provider.at('/via-at'), { replaceRequest: false });
    app.get('/other', (c) => c.text('host'));
    const server = await listenNode(getRequestListener(app.fetch));
    cleanup.push(() => server.stop());
    // The mount point without its slash, and the host's own route: raw.
    const raw = rawCaller(server.url);
    const token = await mint(USERS.creator);
    for (const base of ['/via-route', '/via-mount', '/via-at']) {
      expect((await raw('GET', base)).body.title).toBe('Test provider');
      const run = await actionClient(server.url + base, { token }).run({ body: {} });
      expect(run.status).toBe(202);
      const status = await actionClient(server.url + base, { token, routes: 'actions' }).status(run.body.action_id);
      expect(status.status).toBe(200);
    }
    expect((await raw('GET', '/other')).text).toBe('host');
  });
});
