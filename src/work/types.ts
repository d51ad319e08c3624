/**
 * @module work/types: background work: the `work` callback's context, what an engine (the
 * queue that holds the work durably and leases it to one instance at a time) must offer, and
 * the settings both share.
 */
import type { Logger } from '../logger.ts';
import type { ActionRecord, ActionView, JsonObject } from '../model.ts';

/** Why a work's signal aborted (`signal.reason`). */
export type WorkAbortReason = 'canceled' | 'deadline' | 'shutdown' | 'lease-lost';

/**
 * The `reason` of an aborted work signal: the action was cancelled (or completed by someone
 * else), its deadline passed, the instance is shutting down (the work will be taken up again,
 * from its last checkpoint), or this instance lost its lease (another one may run it now).
 */
export class WorkAborted extends Error {
  override readonly name: string = 'WorkAborted';
  readonly reason: WorkAbortReason;
  constructor(reason: WorkAbortReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** What `progress()` writes: a checkpoint a polling client sees, and `state` to resume from. */
export interface WorkProgress {
  display_status?: string | null | undefined;
  details?: JsonObject | undefined;
  /** Private: the checkpoint the next attempt starts from (`action.state`). */
  state?: JsonObject | null | undefined;
}

/** Who started the action. Never a token: the request that carried it is long gone. */
export interface WorkCaller {
  /** The creator's identity URN. */
  readonly identity: string;
}

/** What the `work` callback receives (one object, like every callback). */
export interface WorkContext<TBody = JsonObject> {
  /** The action as stored when this attempt began: `state` is the last checkpoint. */
  action: ActionView<TBody>;
  /**
   * Aborted when the work must stop: the action was cancelled, its deadline passed, or the
   * instance shuts down. `signal.reason` is a `WorkAborted` saying which.
   */
  signal: AbortSignal;
  /** 1 for the first attempt; each retry and each take-over after a crash adds one. */
  attempt: number;
  caller: WorkCaller;
  /**
   * An access token for `scope` (or a resource server) from the tokens `run` kept for the action
   * (`keepTokens`), acting for its creator: refreshed when it is about to expire, and the
   * refreshed tokens stored, so a later attempt (after a restart, on another instance) finds
   * them. When Globus refuses the refresh token (consent withdrawn, say) it rejects with
   * ConsentRequiredError: let it propagate, and the action goes INACTIVE asking for consent (the
   * creator's resume renews the tokens). When Globus or the store cannot be reached it rejects
   * with a `ServiceUnavailable` ActionError, which the runner retries.
   */
  keptToken(scope: string): Promise<string>;
  /**
   * Persist progress (a versioned update, status unchanged): a client polling status sees it,
   * and a later attempt starts from its `state`. Rejects with a `WorkAborted` once the action
   * is completed by someone else (cancelled) or its deadline passed.
   */
  progress(update: WorkProgress): Promise<void>;
}

/** What an engine knows of one action's work (the operator view). */
export interface WorkInfo {
  /** `queued`: waiting to run (or to be retried at `runAt`); `running`: leased to `leaseHolder`. */
  state: 'queued' | 'running';
  /** Attempts started so far. */
  attempts: number;
  /** When it runs next (ms since the epoch), for queued work. */
  runAt: number | null;
  /** The instance holding the lease, for running work. */
  leaseHolder: string | null;
  /** When that lease runs out unless renewed. */
  leaseExpires: number | null;
}

/** One job an engine hands to this instance: the work of one action, under a lease. */
export interface LeasedJob {
  readonly actionId: string;
  /** 1-based; counts every attempt started, those that died with their instance included. */
  readonly attempt: number;
  /** Renew the lease. Resolves false once it was lost (another instance may hold it). */
  heartbeat(): Promise<boolean>;
  /** The work is over (the action completed, or needs no more work): the job goes. */
  complete(): Promise<void>;
  /** Run it again `delay` ms from now, as the next attempt. */
  retry(delay: number): Promise<void>;
  /** Give the job back at once, this attempt not counted (shutdown): any instance may take it now. */
  release(): Promise<void>;
}

/** Settings an engine is built with (resolved from the provider's `worker` option). */
export interface EngineSettings {
  /** This instance's name in leases. */
  readonly owner: string;
  /** Jobs running at once on this instance. */
  readonly concurrency: number;
  /** Ms a lease lasts unless renewed: how long a dead instance's work waits to be taken up. */
  readonly lease: number;
  /** Ms between looks for new work when none was announced. */
  readonly pollInterval: number;
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * A durable queue of work, one job per action, each leased to one instance at a time: the
 * memory store's runs in-process, the SQLite store's in its own table, PostgreSQL's on pg-boss.
 * The runner (work/runner.ts) owns the semantics; an engine only holds and leases jobs.
 */
export interface WorkEngine {
  /** For logs and the operator view. */
  readonly name: string;
  /**
   * Store `record` as `ActionStore.update` does (only over version - 1) and queue its work, in
   * one transaction: both or neither. Resolves to the record, or undefined on a version conflict.
   */
  schedule(record: ActionRecord): Promise<ActionRecord | undefined>;
  /** Start leasing jobs to `handle`, at most `concurrency` at once. */
  start(handle: (job: LeasedJob) => Promise<void>): Promise<void>;
  /** Stop leasing new jobs (the runner waits for the running ones). */
  stop(): Promise<void>;
  /** The work of these actions, for those that have any. */
  inspect(actionIds: readonly string[]): Promise<Map<string, WorkInfo>>;
  /**
   * How long (ms) the oldest work that is due has waited without being taken, 0 when none
   * waits: what `provider.health()` reports as `lag_ms`. Optional: an engine that cannot tell
   * cheaply leaves it out.
   */
  lag?(): Promise<number>;
  /**
   * An action changed on this instance so that its work must stop (cancelled, completed,
   * INACTIVE), and the runner stopped it here if it ran here: an engine whose work runs
   * elsewhere (a Durable Object) tells that place. Failures are the engine's to log.
   */
  changed?(actionId: string): Promise<void>;
  /** Present on engines woken from outside rather than polling (a Durable Object's alarm). */
  readonly wake?: EngineWake | undefined;
}

/**
 * What an engine that never polls offers the host that wakes it: one Durable Object per action,
 * woken by its alarm, takes that action's work; a Worker's Cron Trigger hands on work whose
 * wake-up was lost.
 */
export interface EngineWake {
  /**
   * Lease the work of `actionId` to the handler `start` was given, if it is due or its lease is
   * held by no one alive (the host is the only place this action's work runs, so a lease it does
   * not hold here was left by its previous life), and resolve once that attempt ends: to when the
   * work is due next (ms since the epoch), null when it has none left, or `running` when it runs
   * here already.
   */
  take(actionId: string): Promise<number | null | 'running'>;
  /** Wake the hosts of work that is due but not running (a lost wake-up, a dead host); resolves to how many. */
  recover(): Promise<number>;
}

/** What a host that wakes work itself uses of a provider's worker (`provider.worker[WORK_WAKE]`). */
export interface WorkWake {
  /** Start the worker if need be, then `EngineWake.take`. */
  take(actionId: string): Promise<number | null | 'running'>;
  /** The action changed elsewhere: read it, and stop its work here now if it must stop. */
  notice(actionId: string): Promise<void>;
  /** `EngineWake.recover`. */
  recover(): Promise<number>;
}

/**
 * Where a provider's worker keeps its `WorkWake`, when its engine is woken from outside: the
 * Workers adapter (adapters/cloudflare-work-object.ts) finds it there, on any copy of the package.
 */
export const WORK_WAKE = Symbol.for('globus-action-provider.work-wake');

/** Builds a store's own engine. */
export type EngineFactory = (settings: EngineSettings) => WorkEngine;

/** Where a store keeps the factory of its engine. */
export const WORK_ENGINE = Symbol.for('globus-action-provider.work-engine');

/** A store that comes with an engine (memory, SQLite, PostgreSQL). */
export interface WithWorkEngine {
  readonly [WORK_ENGINE]: EngineFactory;
}
