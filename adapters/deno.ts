/**
 * @module adapters/deno: serve a provider with `Deno.serve`, under an optional prefix, with
 * graceful shutdown. (`deno serve` also runs `export default provider` directly.)
 */
import { escapedError } from './answers.ts';
import type { FetchProvider, RunningServerOf, ServerOptions } from './contract.ts';

export type { FetchProvider, HealthOption, HealthRoutes, RunningServerOf, ServerOptions } from './contract.ts';

import { served } from './health.ts';
import { running, type ShutdownSignal, serverSettings } from './lifecycle.ts';

/** The part of Deno's API this adapter uses (so the package needs no Deno types). */
export interface DenoServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
      onError?: (error: unknown) => Response;
    },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: ShutdownSignal, handler: () => void): void;
  removeSignalListener(signal: ShutdownSignal, handler: () => void): void;
};

export type DenoServeOptions = ServerOptions;

export type DenoRunningServer = RunningServerOf<DenoServer>;

/**
 * @example
 * ```ts
 * const { url } = serve(provider, { port: 8080, prefix: '/echo' })
 * ```
 */
export function serve(provider: FetchProvider, options: DenoServeOptions = {}): DenoRunningServer {
  const settings = serverSettings(options);
  const under = served(provider, { prefix: settings.prefix, health: options.health });
  // Deno passes its ServeHandlerInfo second: not an env for the provider.
  const handler = (request: Request) => under(request);
  // onListen: Deno would otherwise print its own "Listening on" line; onError: its own answer is a text 500.
  const { port: wanted, hostname: host } = settings;
  const server = Deno.serve({ port: wanted, hostname: host, onListen: () => {}, onError: escapedError }, handler);
  const signals = {
    on: (signal: ShutdownSignal, listener: () => void) => Deno.addSignalListener(signal, listener),
    off: (signal: ShutdownSignal, listener: () => void) => Deno.removeSignalListener(signal, listener),
  };
  // shutdown(): stop accepting, and resolve once requests in flight are done.
  const stop = () => server.shutdown();
  const { hostname, port } = server.addr;
  return running(provider, settings, { server, hostname, port, stop, signals });
}
