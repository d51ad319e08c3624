/**
 * @module test/adapters: what each adapter promises beyond the conformance suite: prefixes,
 * graceful shutdown, default exports on Bun and Deno, Workers' waitUntil and per-isolate build,
 * and an Express host's own routes, parsers and error handling left intact.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { expressMiddleware } from '../adapters/express.ts';
import { serve } from '../adapters/node.ts';
import { normalisePrefix, withPrefix } from '../adapters/prefix.ts';
import { BIN, exampleEnv, type Host, listenNode, ROOT, startWorker } from './conformance/hosts.ts';
import { caller, mint, rid, SCOPE, testProvider, USERS } from './helpers.ts';
import { freePort } from './support/ports.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0)) await stop();
});

async function waitForHttp(url: string, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
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
  it('serves introspection at /prefix and /prefix/, and JSON 404 outside', async () => {
    const provider = testProvider();
    const fetchUnder = withPrefix(provider.fetch, '/tools/echo');
    for (const path of ['/tools/echo', '/tools/echo/']) {
      const response = await fetchUnder(new Request(`http://h${path}`));
      expect(response.status).toBe(200);
      expect((await response.json()).title).toBe('Test provider');
    }
    const outside = await fetchUnder(new Request('http://h/tools/echoes'));
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ code: 'ActionNotFound', description: 'No such route' });
  });
});

describe('Node adapter', () => {
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
    const token = await mint(USERS.creator);
    const inFlight = caller(server.url)('POST', '/run', { token, body: { request_id: rid(), body: {} } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(server.url)).rejects.toThrow();
    release();
    expect((await inFlight).status).toBe(202);
    await closed;
  });

  it('stops gracefully on SIGTERM with a request in flight', async () => {
    const env = await exampleEnv();
    const child = spawn(
      process.execPath,
      [
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
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanup.push(async () => child.kill('SIGKILL'));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const url = /listening on (\S+?)\/\s/.exec(line.toString())?.[1] ?? '';
    const inFlight = caller(url)('POST', '/run', {
      token: await mint(USERS.creator),
      body: { request_id: rid(), body: {} },
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    const reply = await inFlight;
    expect(reply.status).toBe(202);
    expect(reply.json.status).toBe('SUCCEEDED');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});

describe('export default provider', () => {
  it('is served as it is by Bun', async () => {
    const port = await freePort();
    const child = spawn(BIN('bun'), ['test/fixtures/default-export.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    });
    cleanup.push(async () => child.kill('SIGKILL'));
    const response = await waitForHttp(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect((await response.json()).title).toBe('Default export');
  });
  it('is served as it is by `deno serve`', async () => {
    const port = await freePort();
    const child = spawn(
      BIN('deno'),
      [
        'serve',
        '--allow-env',
        '--allow-read',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        'test/fixtures/default-export.ts',
      ],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    cleanup.push(async () => child.kill('SIGKILL'));
    const response = await waitForHttp(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect((await response.json()).title).toBe('Default export');
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
    const call = caller(`${host.url}/ap`);
    const token = await mint(USERS.creator, { issuer: 'anyone' });
    const run = await call('POST', '/run', { token, body: { request_id: rid(), body: {} } });
    expect(run.status).toBe(202);
    expect(run.json).toMatchObject({ status: 'ACTIVE', details: { queued: true } });
    let status = run.json.status;
    for (let i = 0; i < 50 && status !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await call('GET', `/${run.json.action_id}/status`, { token })).json.status;
    }
    expect(status).toBe('SUCCEEDED');
    for (let i = 0; i < 3; i++) expect((await call('GET', '/')).json.title).toBe('builds=1');
    expect((await caller(host.url)('GET', '/')).status).toBe(404);
  });
});

describe('Express adapter', () => {
  const host = async (configure: (app: express.Express) => void) => {
    const app = express();
    configure(app);
    const server = await listenNode(app);
    cleanup.push(() => server.stop());
    return caller(server.url);
  };

  it("leaves the host's routes, parsers and error handling intact", async () => {
    const call = await host((app) => {
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
    expect((await call('POST', '/host/echo', { body: { a: 1 } })).json).toEqual({ host: { a: 1 } });
    expect(await call('GET', '/host/boom').then((r) => [r.status, r.json])).toEqual([
      418,
      { handledBy: 'host', message: 'host failure' },
    ]);
    const token = await mint(USERS.creator);
    const run = await call('POST', '/ap/actions', { token, body: { request_id: rid(), body: { x: 1 } } });
    expect(run.status).toBe(202);
    expect(run.json.details).toEqual({ got: { x: 1 } });
  });

  it("answers a host parser's rejection under the mount with the provider's JSON errors", async () => {
    const call = await host((app) => {
      app.use(express.json({ type: '*/*', limit: 1000 }));
      app.use('/ap', expressMiddleware(testProvider()));
    });
    const token = await mint(USERS.creator);
    const invalid = await call('POST', '/ap/run', {
      token,
      raw: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect([invalid.status, invalid.json]).toEqual([400, { code: 'BadActionRequest', description: 'Invalid JSON' }]);
    const large = await call('POST', '/ap/run', {
      token,
      body: { request_id: rid(), body: { pad: 'x'.repeat(5000) } },
    });
    expect(large.status).toBe(413);
    expect(large.json.code).toBe('PayloadTooLarge');
  });

  it('reads a body the host left alone as a stream, and one consumed by other middleware as empty JSON, without hanging', async () => {
    const call = await host((app) => {
      app.use('/drained', (req, _res, next) => {
        req.resume();
        req.on('end', () => next());
      });
      app.use('/drained', expressMiddleware(testProvider()));
      app.use('/ap', expressMiddleware(testProvider()));
    });
    const token = await mint(USERS.creator);
    const streamed = await call('POST', '/ap/run', {
      token,
      body: { request_id: rid(), body: { big: 'y'.repeat(200_000) } },
    });
    expect(streamed.status).toBe(202);
    const drained = await call('POST', '/drained/run', { token, body: { request_id: rid(), body: {} } });
    expect([drained.status, drained.json.code]).toEqual([400, 'BadActionRequest']);
  });
});

describe('Hono host', () => {
  it('serves the provider through route() as well as mount()', async () => {
    const provider = testProvider();
    const app = new Hono();
    app.route('/via-route', provider.app);
    app.mount('/via-mount', provider.fetch);
    app.get('/other', (c) => c.text('host'));
    const server = await listenNode(getRequestListener(app.fetch));
    cleanup.push(() => server.stop());
    const call = caller(server.url);
    const token = await mint(USERS.creator);
    for (const base of ['/via-route', '/via-mount']) {
      expect((await call('GET', base)).json.title).toBe('Test provider');
      const run = await call('POST', `${base}/run`, { token, body: { request_id: rid(), body: {} } });
      expect(run.status).toBe(202);
      expect((await call('GET', `${base}/actions/${run.json.action_id}`, { token })).status).toBe(200);
    }
    expect((await call('GET', '/other')).text).toBe('host');
  });
});
