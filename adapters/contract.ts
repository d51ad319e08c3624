/**
 * @module adapters/contract: what the adapters serve (`FetchProvider`), the options and result
 * the Node, Bun and Deno `serve()` helpers share, and the shapes of the Node and Worker entries.
 * Runtime types are written structurally here, so the package needs no Bun, Deno or Workers types.
 */
import type { HealthOptions, HealthReport } from '../src/health.ts';
import type { WORK_WAKE, WorkWake } from '../src/work/types.ts';

/** What the adapters serve: a provider, or anything with `fetch`. */
export interface FetchProvider {
  /** A Hono app's, a provider's or any Web handler's `fetch`; a runtime may pass its env and context. */
  fetch(request: Request, env?: unknown, executionContext?: unknown): Response | Promise<Response>;
  /**
   * Present on providers: the handler under a prefix, routing on the request's own path (no
   * copy of it). Adapters use it only while `fetch` is the provider's own.
   */
  at?(prefix: string): (request: Request, env?: unknown, executionContext?: unknown) => Response | Promise<Response>;
  /** Present on providers: deletes expired actions (the servers run it on an interval). */
  sweep?(): Promise<number>;
  /** Present on providers: stops background work, then closes the store (after a signal-driven shutdown). */
  close?(): Promise<void>;
  /** Present on providers with background work: the servers start it once listening and stop it on close. */
  readonly worker?: { start(): Promise<void>; stop(options?: { grace?: number }): Promise<void> } | undefined;
  /** Present on providers: what the readiness route of the `health` option answers. */
  health?(options?: HealthOptions): Promise<HealthReport>;
}

/** Where the health routes are, and how long readiness may take. */
export interface HealthRoutes {
  /** The liveness path. Default `/livez`. */
  live?: string;
  /** The readiness path. Default `/readyz`. */
  ready?: string;
  /**
   * Ms each check of a readiness probe may take (`provider.health({ timeout })`). Default 2,000:
   * give the probe's own timeout a second more.
   */
  timeout?: number;
}

/**
 * The `health` option of every adapter: `true` serves `GET`/`HEAD` `/livez` (200 at once,
 * touching nothing) and `/readyz` (`provider.health()`: 200 for pass or warn, 503 for fail),
 * outside the prefix; or say where. A path inside the prefix is a TypeError.
 */
export type HealthOption = boolean | HealthRoutes;

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
  /** Liveness and readiness routes, outside the prefix (see `HealthOption`). */
  health?: HealthOption;
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

export interface NodeListenerOptions extends Pick<ServerOptions, 'prefix' | 'health'> {
  /**
   * Let @hono/node-server replace the global Request and Response with its lighter versions
   * (Hono's default on Node, several times cheaper per request). Default: false for
   * `nodeListener` (a host's process), true for `serve` (a process of the provider's own).
   */
  overrideGlobalObjects?: boolean;
}

export interface ServeOptions extends NodeListenerOptions, ServerOptions {
  /** On close, requests still running after this many ms are cut off. Default 10,000. */
  shutdownGrace?: number;
  /** A request's headers must arrive within this many ms, or it is answered 408; 0: no limit. Default 10,000. */
  headersTimeout?: number;
  /**
   * A whole request (headers and body; not the response) must arrive within this many ms, or it
   * is answered 408; 0: no limit. Default 60,000. Not below `headersTimeout`.
   */
  requestTimeout?: number;
  /** Connections beyond this many are closed as they arrive (node:http's `maxConnections`). Default: no cap. */
  maxConnections?: number;
}

/** The parts of the Workers runtime types used here (so the package needs no Workers types). */
export interface WorkerExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

export interface WorkerProvider {
  fetch(request: Request, env?: unknown, executionContext?: unknown): Response | Promise<Response>;
  sweep?(): Promise<number>;
  health?(options?: HealthOptions): Promise<HealthReport>;
  /**
   * Present on providers with background work. On Workers it must be woken from outside (a
   * store opened with `d1Store(env.DB, { work: env.ACTION_WORK })`): nothing may poll.
   */
  readonly worker?:
    | { readonly [WORK_WAKE]?: WorkWake; start(): Promise<void>; stop(options?: { grace?: number }): Promise<void> }
    | undefined;
}

export interface WorkerOptions {
  /** Serve under this path, e.g. `/echo`. */
  prefix?: string;
  /** Liveness and readiness routes, outside the prefix (see `HealthOption`). */
  health?: HealthOption;
}

export interface ProviderWorker<Env> {
  fetch(request: Request, env: Env, ctx: WorkerExecutionContext): Promise<Response>;
  /**
   * Deletes expired actions, and wakes the Durable Objects of background work whose wake-up was
   * lost; add a Cron Trigger (e.g. every five minutes) in wrangler.toml to run it.
   */
  scheduled(controller: unknown, env: Env, ctx: WorkerExecutionContext): Promise<void>;
}

/** The part of a Durable Object's state (`ctx` of its constructor) the work object uses. */
export interface DurableObjectStateLike {
  readonly storage: {
    get<T = unknown>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    deleteAll(): Promise<void>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
}

/** An instance of the class `actionWorkObject()` makes: what workerd calls on a Durable Object. */
export interface ActionWorkObject {
  /** What the Worker tells it (work/durable-object.ts): `POST /wake` and `POST /notice`, `?action_id=`. */
  fetch(request: Request): Promise<Response>;
  alarm(): Promise<void>;
}

export interface WorkObjectOptions {
  /**
   * Ms one alarm runs the work before handing it back and re-arming at once, so that long work
   * goes on in slices: Cloudflare ends an alarm handler after 15 minutes of wall-clock time. At
   * the end of a slice the work's signal aborts (reason `shutdown`) after `worker.shutdownGrace`,
   * its lease goes back without counting the attempt, and the next alarm starts it again from its
   * last checkpoint. Keep it plus `shutdownGrace` and a few seconds under 15 minutes. Default
   * 840,000 (14 minutes).
   */
  maxAlarmTime?: number;
}
