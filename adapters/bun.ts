/**
 * @module adapters/bun: serve a provider with `Bun.serve`, under an optional prefix, with
 * graceful shutdown. (Bun also runs `export default provider` directly: it is `{ fetch }`.)
 */

import { escapedError } from './answers.ts';
import type { FetchProvider, RunningServerOf, ServerOptions } from './contract.ts';

export type { FetchProvider, HealthOption, HealthRoutes, RunningServerOf, ServerOptions } from './contract.ts';

import { served } from './health.ts';
import { processSignals, running, serverSettings } from './lifecycle.ts';

/** The part of Bun's API this adapter uses (so the package needs no Bun types). */
export interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request, server: unknown) => Response | Promise<Response>;
    error: (error: Error) => Response;
  }): BunServer;
};

export type BunServeOptions = ServerOptions;

export type BunRunningServer = RunningServerOf<BunServer>;

/**
 * @example
 * ```ts
 * const { url } = serve(provider, { port: 8080, prefix: '/echo' })
 * ```
 */
export function serve(provider: FetchProvider, options: BunServeOptions = {}): BunRunningServer {
  const settings = serverSettings(options);
  const handler = served(provider, { prefix: settings.prefix, health: options.health });
  const { port: wanted, hostname: host } = settings;
  // error: Bun's own answer to a throw is an HTML page with the stack trace.
  const server = Bun.serve({ port: wanted, hostname: host, fetch: (request) => handler(request), error: escapedError });
  // stop(false): stop accepting, and resolve once requests in flight are done.
  const stop = () => server.stop(false);
  const { hostname, port } = server;
  return running(provider, settings, { server, hostname, port, stop, signals: processSignals });
}
