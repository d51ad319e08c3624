/**
 * @module adapters/contract: what the adapters serve (`FetchProvider`), and the options and
 * result the Node, Bun and Deno `serve()` helpers share.
 */

/** What the adapters serve: a provider, or anything with `fetch`. */
export interface FetchProvider {
  // `never[]`: any handler taking extra arguments (a Worker's env and ctx) fits.
  fetch(request: Request, ...rest: never[]): Response | Promise<Response>;
  /** Present on providers: deletes expired actions (the servers run it on an interval). */
  sweep?(): Promise<number>;
  /** Present on providers: closes the store (after a signal-driven shutdown). */
  close?(): Promise<void>;
}

/** The options of every `serve()`: where to listen, the prefix, shutdown and expiry. */
export interface ServerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  hostname?: string;
  /** Serve under this path, e.g. `/echo`. */
  prefix?: string;
  /** Stop gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** Delete expired actions every this many ms while serving; 0 turns it off. Default 60,000. */
  sweepInterval?: number;
}

/** What every `serve()` returns, around the runtime's own server object `S`. */
export interface RunningServerOf<S> {
  readonly server: S;
  /** The base URL, e.g. `http://127.0.0.1:8080/echo`. */
  readonly url: string;
  readonly port: number;
  /** Stop accepting connections, let requests in flight finish, then close. */
  close(): Promise<void>;
}
