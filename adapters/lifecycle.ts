/**
 * @module adapters/lifecycle: a server's lifecycle, written once for Node, Bun and Deno: options
 * checked before anything listens, the base URL, the expiry sweeper, background work started
 * and stopped, shutdown on SIGTERM and SIGINT (stop taking requests and work, drain both, then
 * close the store), and a `close()` that runs once.
 */
import { startSweeper } from '../src/index.ts';
import type { FetchProvider, RunningServerOf, ServeOptions, ServerOptions } from './contract.ts';
import { normalisePrefix } from './prefix.ts';

/** The signals that ask a server to shut down. */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT';
const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];

/** Where a runtime delivers signals: `process` on Node and Bun, `Deno.addSignalListener` on Deno. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): void;
  off(signal: ShutdownSignal, listener: () => void): void;
}

/**
 * Node's and Bun's signals. `once`: a second signal of the same kind while requests
 * drain is no longer caught here, so (unless the host listens for it) it ends the process at once.
 */
export const processSignals: SignalSource = {
  on: (signal, listener) => void process.once(signal, listener),
  off: (signal, listener) => void process.off(signal, listener),
};

/** `ServerOptions` checked, with their defaults. */
export interface ServerSettings {
  readonly port: number;
  readonly hostname: string;
  /** Normalised: `''` or `/path`. */
  readonly prefix: string;
  readonly handleSignals: boolean;
  /** 0: no sweeper. */
  readonly sweepInterval: number;
}

/**
 * Checks `options` and applies their defaults. Called before listening, so a bad option throws
 * a `TypeError` naming it instead of leaving a port bound.
 *
 * @example
 * ```ts
 * const { port, hostname, prefix } = serverSettings({ port: 0, prefix: 'echo/' }) // 0, '127.0.0.1', '/echo'
 * ```
 */
export function serverSettings(options: ServerOptions): ServerSettings {
  const { port = 8080, hostname = '127.0.0.1', handleSignals = true, sweepInterval = 60_000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError('port: must be an integer from 0 to 65535');
  if (typeof hostname !== 'string') throw new TypeError('hostname: must be a string');
  // startSweeper's own range, checked here as well so that it fails before the port is bound.
  if (sweepInterval !== 0 && !(Number.isFinite(sweepInterval) && sweepInterval >= 10 && sweepInterval <= 2_147_483_647))
    throw new TypeError('sweepInterval: must be 0 (off) or a number of ms from 10 to 2147483647');
  return { port, hostname, prefix: normalisePrefix(options.prefix), handleSignals, sweepInterval };
}

/** The Node-only `ServeOptions`, checked, with their defaults. */
export interface NodeServerSettings {
  readonly shutdownGrace: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  /** undefined: no cap. */
  readonly maxConnections: number | undefined;
  /** How often node:http looks for requests past their timeouts (30 s unless told). */
  readonly connectionsCheckingInterval: number;
}

/** Timers hold at most 2^31-1 ms (a longer one fires after 1 ms). */
const MAX_TIMER = 2_147_483_647;
const isDelay = (value: number) => value >= 0 && value <= MAX_TIMER;

/**
 * Checks the Node-only `ServeOptions` (after `serverSettings`), so a bad one throws a
 * `TypeError` naming it before anything listens. node:http's own defaults (headers within 60 s,
 * the request within 5 minutes, checked every 30 s) leave a slow client a connection for minutes.
 */
export function nodeServerSettings(options: ServeOptions): NodeServerSettings {
  const { shutdownGrace = 10_000, headersTimeout = 10_000, requestTimeout = 60_000, maxConnections } = options;
  if (!isDelay(shutdownGrace)) throw new TypeError('shutdownGrace: must be a number of ms from 0 to 2147483647');
  if (!isDelay(headersTimeout)) throw new TypeError('headersTimeout: must be a number of ms from 0 to 2147483647');
  if (!isDelay(requestTimeout)) throw new TypeError('requestTimeout: must be a number of ms from 0 to 2147483647');
  if (requestTimeout !== 0 && headersTimeout > requestTimeout)
    throw new TypeError('headersTimeout: must not exceed requestTimeout');
  if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections >= 1))
    throw new TypeError('maxConnections: must be a positive integer');
  // A timeout is only noticed when node:http next checks: often enough to keep it within a second.
  const shortest = Math.min(...[headersTimeout, requestTimeout].filter((timeout) => timeout > 0), 1_000);
  return { shutdownGrace, headersTimeout, requestTimeout, maxConnections, connectionsCheckingInterval: shortest };
}

/** A runtime's server once it listens, and the runtime's signals. */
export interface Listening<S> {
  readonly server: S;
  /** Where it listens, for the URL. */
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting connections; resolves once the requests in flight are done. */
  stop(): Promise<void>;
  readonly signals: SignalSource;
}

/**
 * Everything after listening: starts background work, runs the expiry sweeper until close
 * (which stops work too, after its grace period); on SIGTERM or SIGINT (unless
 * `handleSignals` is false) closes, then closes the provider's store, once however many signals
 * come. `close()` stops the sweeper and the server, removes the signal listeners, and returns
 * the same promise however often it is called.
 *
 * @example
 * ```ts
 * const settings = serverSettings(options)
 * const server = Bun.serve({ port: settings.port, hostname: settings.hostname, fetch })
 * const { hostname, port } = server
 * return running(provider, settings, { server, hostname, port, stop: () => server.stop(), signals: processSignals })
 * ```
 */
export function running<S>(
  provider: FetchProvider,
  settings: ServerSettings,
  listening: Listening<S>,
): RunningServerOf<S> {
  const { server, hostname, port, signals } = listening;
  const sweep = provider.sweep?.bind(provider);
  const sweeper =
    sweep && settings.sweepInterval !== 0 ? startSweeper({ sweep, interval: settings.sweepInterval }) : undefined;
  const worker = provider.worker;
  let closing: Promise<void> | undefined;
  // Requests drain while running work gets its grace period; the store closes after both.
  const close = (): Promise<void> =>
    (closing ??= Promise.all([sweeper?.stop(), listening.stop(), worker?.stop()])
      .then(() => {})
      .finally(() => {
        if (settings.handleSignals) for (const signal of SHUTDOWN_SIGNALS) signals.off(signal, onSignal);
      }));
  // On a signal the process is going away: once requests in flight are done, close the store
  // too (an open database pool would otherwise keep the process alive).
  let signalled = false;
  const onSignal = (): void => {
    if (signalled) return;
    signalled = true;
    void close().then(() => provider.close?.());
  };
  if (settings.handleSignals) for (const signal of SHUTDOWN_SIGNALS) signals.on(signal, onSignal);
  // Work left by an instance that died is taken up now. A worker that cannot start logs why
  // through the provider's logger, and tries again when work is next scheduled.
  worker?.start().catch(() => {});
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { server, url: `http://${host}:${port}${settings.prefix}`, port, close };
}

/** The part of a node:http `Server` that draining uses. */
export interface DrainableServer {
  close(callback: (error?: Error) => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/**
 * Node's stop: `server.close()`, closing connections as they go idle and all of them after
 * `grace` ms (Bun's `stop(false)` and Deno's `shutdown()` drain by themselves).
 */
export function drain(server: DrainableServer, grace: number): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  // Connections go idle as their last response is written (or open and never send a request):
  // close those as they appear; after the grace period, close everything.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const hard = setTimeout(() => server.closeAllConnections(), grace);
  server.closeIdleConnections();
  return closed.finally(() => {
    clearInterval(idle);
    clearTimeout(hard);
  });
}
