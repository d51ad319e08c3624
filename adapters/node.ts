/**
 * @module adapters/node: serve a provider with node:http (through @hono/node-server), under an
 * optional prefix, with graceful shutdown, timeouts and JSON for node:http's own answers.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { FetchProvider, NodeListenerOptions, RunningServerOf, ServeOptions } from './contract.ts';
import { served } from './health.ts';
import { drain, nodeServerSettings, processSignals, running, serverSettings } from './lifecycle.ts';
import { jsonClientErrors, listenerError } from './node-errors.ts';

export type { FetchProvider, HealthOption, HealthRoutes, NodeListenerOptions, ServeOptions } from './contract.ts';
export { jsonClientErrors } from './node-errors.ts';

export type RunningServer = RunningServerOf<Server>;

/**
 * A `(req, res)` listener for `http.createServer` (or any host that speaks node:http). Requests
 * @hono/node-server cannot build (a bad Host, a backslash path) get the JSON 400; for what
 * node:http answers itself, see `jsonClientErrors`.
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
  return getRequestListener(served(provider, options), {
    overrideGlobalObjects: options.overrideGlobalObjects ?? false,
    errorHandler: listenerError,
  });
}

/**
 * Listen on a port. Resolves once the server accepts connections.
 *
 * @example
 * ```ts
 * const { url } = await serve(provider, { port: 8080, prefix: '/echo', maxConnections: 1000 })
 * ```
 */
export async function serve(provider: FetchProvider, options: ServeOptions = {}): Promise<RunningServer> {
  const settings = serverSettings(options);
  const { shutdownGrace, maxConnections, ...timeouts } = nodeServerSettings(options);
  const { overrideGlobalObjects = true } = options;
  const { health } = options;
  const listener = nodeListener(provider, {
    prefix: settings.prefix,
    overrideGlobalObjects,
    ...(health && { health }),
  });
  // requireHostHeader: false lets a request without Host reach @hono/node-server, which answers
  // it with our JSON 400 instead of node:http's empty one.
  const server = jsonClientErrors(createServer({ ...timeouts, requireHostHeader: false }, listener));
  if (maxConnections !== undefined) server.maxConnections = maxConnections;
  server.listen(settings.port, settings.hostname);
  await once(server, 'listening'); // rejects on 'error' (a port in use, say)
  const { port } = server.address() as AddressInfo;
  const stop = () => drain(server, shutdownGrace);
  return running(provider, settings, { server, hostname: settings.hostname, port, stop, signals: processSignals });
}
