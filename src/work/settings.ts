/**
 * @module work/settings: the provider's `worker` option, checked once at creation: a bad value
 * throws a TypeError naming it.
 */
import { rejectUnknownKeys } from '../validation/known-keys.ts';
import type { EngineFactory } from './types.ts';

export interface WorkerOptions {
  /** Works running at once on this instance. Default 100. */
  concurrency?: number;
  /**
   * Ms a lease lasts unless renewed: the work of an instance that died is taken up again
   * (on restart, or by another instance) within about this long. Default 30,000. On PostgreSQL
   * (pg-boss) at least 10,000, rounded up to whole seconds; a dead instance's work is taken up
   * within about 1.1 × lease + `pollInterval` there (pg-boss's supervisor looks every tenth).
   */
  lease?: number;
  /**
   * Ms between heartbeats, each renewing the leases of running work and noticing a cancel made
   * on another instance (a cancel on this one aborts at once). Default a third of `lease`, at
   * most 5,000.
   */
  heartbeat?: number;
  /** Attempts before the action ends FAILED with code `RetriesExhausted`. Default 5. */
  maxAttempts?: number;
  /** Ms before the first retry, doubling each attempt up to `maxRetryDelay`. Default 1,000. */
  retryDelay?: number;
  /** Longest wait between attempts, in ms. Default 300,000. */
  maxRetryDelay?: number;
  /** Ms between looks for work (work scheduled on this instance starts at once). Default 1,000. */
  pollInterval?: number;
  /**
   * Ms running work may go on after shutdown begins (`provider.close()`, SIGTERM through the
   * serve() helpers) before its signal aborts. Default 10,000.
   */
  shutdownGrace?: number;
  /** This instance's name in leases (the operator view shows it). Default a random one. */
  id?: string;
  /**
   * The engine holding the work: by default the store's own (memory: in-process; SQLite: a
   * table in the same file; PostgreSQL: pg-boss). A custom store must name one.
   */
  engine?: EngineFactory;
}

export interface WorkerSettings {
  readonly concurrency: number;
  readonly lease: number;
  readonly heartbeat: number;
  readonly maxAttempts: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly pollInterval: number;
  readonly shutdownGrace: number;
  readonly id: string;
  readonly engine: EngineFactory | undefined;
}

const KEYS = [
  'concurrency',
  'lease',
  'heartbeat',
  'maxAttempts',
  'retryDelay',
  'maxRetryDelay',
  'pollInterval',
  'shutdownGrace',
  'id',
  'engine',
] as const satisfies readonly (keyof WorkerOptions)[];

/** Timers hold at most 2^31-1 ms. */
const MAX_TIMER = 2_147_483_647;

function integer(value: unknown, fallback: number, name: string, min: number, max = MAX_TIMER): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isSafeInteger(resolved) || resolved < min || resolved > max) {
    throw new TypeError(`worker.${name}: must be an integer from ${min} to ${max}`);
  }
  return resolved;
}

export function workerSettings(options: WorkerOptions | undefined): WorkerSettings {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TypeError('worker: must be an object');
  rejectUnknownKeys(o, KEYS, 'worker');
  const lease = integer(o.lease, 30_000, 'lease', 100);
  const heartbeat = integer(o.heartbeat, Math.max(10, Math.min(5_000, Math.floor(lease / 3))), 'heartbeat', 10);
  if (heartbeat >= lease) throw new TypeError('worker.heartbeat: must be shorter than worker.lease');
  const retryDelay = integer(o.retryDelay, 1_000, 'retryDelay', 0);
  const maxRetryDelay = integer(o.maxRetryDelay, Math.max(300_000, retryDelay), 'maxRetryDelay', 0);
  if (maxRetryDelay < retryDelay) throw new TypeError('worker.maxRetryDelay: must not be less than worker.retryDelay');
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id === '' || o.id.length > 200)) {
    throw new TypeError('worker.id: must be a non-empty string of at most 200 characters');
  }
  if (o.engine !== undefined && typeof o.engine !== 'function') {
    throw new TypeError('worker.engine: must be an engine factory (e.g. pgBossEngine(...))');
  }
  return {
    concurrency: integer(o.concurrency, 100, 'concurrency', 1, 100_000),
    lease,
    heartbeat,
    maxAttempts: integer(o.maxAttempts, 5, 'maxAttempts', 1, 1_000),
    retryDelay,
    maxRetryDelay,
    pollInterval: integer(o.pollInterval, 1_000, 'pollInterval', 10),
    shutdownGrace: integer(o.shutdownGrace, 10_000, 'shutdownGrace', 0),
    id: o.id ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
    engine: o.engine,
  };
}
