/**
 * @module test/bench/runtime-server: the server side of test/bench/runtimes.ts, run on Node
 * (tsx), Bun or Deno. It serves, on two ports of the same process, a bare Hono app whose one
 * route answers the same JSON body as the provider's status, with the runtime's own server,
 * and the echo provider (dev authenticator, memory store, silent logger) through this library's
 * adapter for that runtime, on a third port under the prefix `/skeleton` as well. It prints one JSON line: ports, a token and an action id.
 */
import { Hono } from 'hono';
import { ECHO_SCOPE, echoProvider } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import { silentLogger } from '../../src/index.ts';

const runtime = (globalThis as { Bun?: unknown; Deno?: unknown }).Bun
  ? 'bun'
  : (globalThis as { Deno?: unknown }).Deno
    ? 'deno'
    : 'node';
const dev = await devAuth();
const provider = echoProvider({ serverTiming: false, auth: dev.auth, logger: silentLogger });
const token = await dev.mint({ scope: ECHO_SCOPE });
const ran = await provider.fetch(
  new Request('http://bench/run', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({ request_id: 'bench', body: { input_string: 'hello' } }),
  }),
);
const status = (await ran.json()) as { action_id: string };
const bare = new Hono();
bare.get('/status', (c) => c.json(status));

const PREFIX = '/skeleton';

async function listen(): Promise<{ bare: number; provider: number; prefixed: number }> {
  if (runtime === 'bun') {
    const Bun = (globalThis as unknown as { Bun: { serve(o: object): { port: number } } }).Bun;
    const { serve } = await import('../../adapters/bun.ts');
    return {
      bare: Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: bare.fetch }).port,
      provider: serve(provider, { port: 0, handleSignals: false }).port,
      prefixed: serve(provider, { port: 0, handleSignals: false, sweepInterval: 0, prefix: PREFIX }).port,
    };
  }
  if (runtime === 'deno') {
    const Deno = (
      globalThis as unknown as {
        Deno: { serve(o: object, h: (r: Request) => Response | Promise<Response>): { addr: { port: number } } };
      }
    ).Deno;
    const { serve } = await import('../../adapters/deno.ts');
    return {
      bare: Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, bare.fetch).addr.port,
      provider: serve(provider, { port: 0, handleSignals: false }).port,
      prefixed: serve(provider, { port: 0, handleSignals: false, sweepInterval: 0, prefix: PREFIX }).port,
    };
  }
  const { serve: honoServe } = await import('@hono/node-server');
  const { serve } = await import('../../adapters/node.ts');
  const barePort = await new Promise<number>((resolve) =>
    honoServe({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port)),
  );
  return {
    bare: barePort,
    provider: (await serve(provider, { port: 0, handleSignals: false })).port,
    prefixed: (await serve(provider, { port: 0, handleSignals: false, sweepInterval: 0, prefix: PREFIX })).port,
  };
}

const ports = await listen();
console.log(JSON.stringify({ runtime, ...ports, token, actionId: status.action_id }));
