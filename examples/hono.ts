/** @module examples/hono: the echo provider mounted at /echo inside an existing Hono app, on Node. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { authFromEnv, banner } from './dev-auth.ts';
import { echoProvider } from './echo.ts';

const mode = await authFromEnv(process.env);
const provider = echoProvider({ auth: mode.auth, scope: mode.scope });
const host = new Hono();
host.get('/health', (c) => c.json({ ok: true }));
// at('/echo') routes on the request's own path: Hono's default mount() would copy every request.
host.mount('/echo', provider.at('/echo'), { replaceRequest: false });
serve({ fetch: host.fetch, port: Number(process.env['PORT'] ?? 8080), hostname: '127.0.0.1' }, (info) => {
  console.log(banner(`http://127.0.0.1:${info.port}/echo`, mode));
});
