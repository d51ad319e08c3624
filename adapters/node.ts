/**
 * @module adapters/node: serve a provider with node:http (through @hono/node-server), under an
 * optional prefix, with graceful shutdown.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { FetchProvider, NodeListenerOptions, RunningServerOf, ServeOptions } from './contract.ts';
import { drain, processSignals, running, serverSettings } from './lifecycle.ts';
import { withPrefix } from './prefix.ts';

export type { FetchProvider, NodeListenerOptions, ServeOptions } from './contract.ts';

export type RunningServer = RunningServerOf<Server>;

/**
 * A `(req, res)` listener for `http.createServer` (or any host that speaks node:http).
 *
 * @example
 * ```ts
 * http.createServer(nodeListener(provider, { prefix: '/echo' })).listen(8080)
 * ```
 */
export function nodeListener(
  provider: FetchProvider,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  // Inside someone else's host, leave the process's global Request/Response alone by default.
  const fetch = (request: Request, env: unknown) => provider.fetch(request, env as never);
  return getRequestListener(withPrefix(fetch, options.prefix), {
    overrideGlobalObjects: options.overrideGlobalObjects ?? false,
  });
}

/**
 * Listen on a port. Resolves once the server accepts connections.
 *
 * @example
 * ```ts
 * const { url } = await serve(provider, { port: 8080, prefix: '/echo' })
 * ```
 */
export async function serve(provider: FetchProvider, options: ServeOptions = {}): Promise<RunningServer> {
  const settings = serverSettings(options);
  const { shutdownGrace = 10_000, overrideGlobalObjects = true } = options;
  // Timers hold at most 2^31-1 ms (a longer one fires after 1 ms).
  if (!(shutdownGrace >= 0 && shutdownGrace <= 2_147_483_647)) {
    throw new TypeError('shutdownGrace: must be a number of ms from 0 to 2147483647');
  }
  const server = createServer(nodeListener(provider, { prefix: settings.prefix, overrideGlobalObjects }));
  server.listen(settings.port, settings.hostname);
  await once(server, 'listening'); // rejects on 'error' (a port in use, say)
  const { port } = server.address() as AddressInfo;
  const stop = () => drain(server, shutdownGrace);
  return running(provider, settings, { server, hostname: settings.hostname, port, stop, signals: processSignals });
}
