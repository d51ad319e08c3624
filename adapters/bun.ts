/**
 * @module adapters/bun: serve a provider with `Bun.serve`, under an optional prefix, with
 * graceful shutdown. (Bun also runs `export default provider` directly: it is `{ fetch }`.)
 */
import { sweeperFor } from '../src/store/sweeper.ts';
import { type FetchProvider, normalisePrefix, withPrefix } from './prefix.ts';

/** The part of Bun's API this adapter uses (so the package needs no Bun types). */
interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request, server: unknown) => Response | Promise<Response>;
  }): BunServer;
};

export interface BunServeOptions {
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

export interface BunRunningServer {
  readonly server: BunServer;
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
export function serve(provider: FetchProvider, options: BunServeOptions = {}): BunRunningServer {
  const handler = withPrefix((request: Request) => provider.fetch(request), options.prefix);
  const server = Bun.serve({
    port: options.port ?? 8080,
    hostname: options.hostname ?? '127.0.0.1',
    fetch: (request) => handler(request),
  });
  const sweeper = sweeperFor(provider, options.sweepInterval);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= Promise.all([sweeper?.stop(), server.stop(false)]).then(() => {}));
  if (options.handleSignals ?? true) {
    // After a signal, close the store too once requests in flight are done.
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      process.once(signal, () => void close().then(() => provider.close?.()));
  }
  const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
  return { server, port: server.port, url: `http://${host}:${server.port}${normalisePrefix(options.prefix)}`, close };
}
