/**
 * @module adapters/deno: serve a provider with `Deno.serve`, under an optional prefix, with
 * graceful shutdown. (`deno serve` also runs `export default provider` directly.)
 */
import { sweeperFor } from '../src/store/sweeper.ts';
import { type FetchProvider, normalisePrefix, withPrefix } from './prefix.ts';

/** The part of Deno's API this adapter uses (so the package needs no Deno types). */
interface DenoServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  removeSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
};

export interface DenoServeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  hostname?: string;
  prefix?: string;
  /** Stop gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** Delete expired actions every this many ms while serving; 0 turns it off. Default 60,000. */
  sweepInterval?: number;
}

export interface DenoRunningServer {
  readonly server: DenoServer;
  readonly url: string;
  readonly port: number;
  /** Stop accepting, let requests in flight finish, then close. */
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const { url } = serve(provider, { port: 8080, prefix: '/echo' })
 * ```
 */
export function serve(provider: FetchProvider, options: DenoServeOptions = {}): DenoRunningServer {
  const handler = withPrefix((request: Request) => provider.fetch(request), options.prefix);
  const server = Deno.serve(
    { port: options.port ?? 8080, hostname: options.hostname ?? '127.0.0.1', onListen: () => {} },
    handler,
  );
  let closing: Promise<void> | undefined;
  const signals = ['SIGTERM', 'SIGINT'] as const;
  // After a signal, close the store too once requests in flight are done.
  const onSignal = () => void close().then(() => provider.close?.());
  const sweeper = sweeperFor(provider, options.sweepInterval);
  const close = () =>
    (closing ??= Promise.all([sweeper?.stop(), server.shutdown()])
      .then(() => {})
      .finally(() => {
        if (options.handleSignals ?? true) for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      }));
  if (options.handleSignals ?? true) for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const { hostname, port } = server.addr;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { server, port, url: `http://${host}:${port}${normalisePrefix(options.prefix)}`, close };
}
