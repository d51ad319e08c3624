/**
 * @module adapters/node: serve a provider with node:http (through @hono/node-server), under an
 * optional prefix, with graceful shutdown.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { sweeperFor } from '../src/store/sweeper.ts';
import { type FetchProvider, withPrefix } from './prefix.ts';

export type { FetchProvider } from './prefix.ts';

export interface NodeListenerOptions {
  /** Serve under this path, e.g. `/echo`. */
  prefix?: string;
  /**
   * Let @hono/node-server replace the global Request and Response with its lighter versions
   * (Hono's default on Node, several times cheaper per request). Default: false for
   * `nodeListener` (a host's process), true for `serve` (a process of the provider's own).
   */
  overrideGlobalObjects?: boolean;
}

export interface ServeOptions extends NodeListenerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  hostname?: string;
  /** Stop gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** On close, requests still running after this many ms are cut off. Default 10,000. */
  shutdownGrace?: number;
  /** Delete expired actions every this many ms while serving; 0 turns it off. Default 60,000. */
  sweepInterval?: number;
}

export interface RunningServer {
  readonly server: Server;
  /** The base URL, e.g. `http://127.0.0.1:8080/echo`. */
  readonly url: string;
  readonly port: number;
  /** Stop accepting connections, let requests in flight finish, then close. */
  close(): Promise<void>;
}

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
  const port = options.port ?? 8080;
  const hostname = options.hostname ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError('port: must be an integer from 0 to 65535');
  const server = createServer(
    nodeListener(provider, { ...options, overrideGlobalObjects: options.overrideGlobalObjects ?? true }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  const prefix = options.prefix ? `/${options.prefix.replace(/^\/+|\/+$/g, '')}` : '';
  const sweeper = sweeperFor(provider, options.sweepInterval);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      void sweeper?.stop();
      server.close((error) => (error ? reject(error) : resolve()));
      // Connections go idle as their last response is written (or open and never send a
      // request): close those as they appear; after the grace period, close everything.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const hard = setTimeout(() => server.closeAllConnections(), options.shutdownGrace ?? 10_000);
      server.once('close', () => {
        clearInterval(sweep);
        clearTimeout(hard);
      });
      server.closeIdleConnections();
    }).finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
    return closing;
  };
  // On a signal the process is going away: once requests in flight are done, close the store
  // too (an open database pool would otherwise keep the process alive).
  const onSignal = (): void => {
    void close().then(() => provider.close?.());
  };
  if (options.handleSignals ?? true) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { server, url: `http://${host}:${actualPort}${prefix}`, port: actualPort, close };
}
