/**
 * @module client/wait: following an action until it settles, as Globus Flows does: read its
 * status, then again after 1 s, 2 s, 4 s, ... up to a cap, until the status is one to stop at,
 * a deadline passes or a signal aborts. Transient failures (no answer, 5xx, 429) are retried a
 * few times on the same schedule; any other failure ends the wait.
 */
import type { ActionStatus, ActionStatusValue } from '../model.ts';
import { ActionProviderError, isActionProviderError } from './errors.ts';

/** Waits `ms`; rejects with the signal's reason if it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Flows' cap: it polls an action at most every 10 minutes. */
export const DEFAULT_MAX_DELAY = 600_000;
/** What `waitFor` stops at unless told: completion, and INACTIVE (a person must act: consent, log in, approve). */
export const SETTLED: readonly ActionStatusValue[] = ['SUCCEEDED', 'FAILED', 'INACTIVE'];

export interface WaitOptions {
  /** Stops the wait (and the request under way); it rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * When to give up: a Date, or ms since the epoch on the client's clock. The last read is made
   * at the deadline; the wait then rejects with an `ActionProviderError` whose code is
   * `DeadlineExceeded` and whose `action` is the last status read.
   */
  deadline?: Date | number | undefined;
  /** Called with every status read, the first one included (awaited: throwing ends the wait). */
  onStatus?: ((status: ActionStatus) => void | Promise<void>) | undefined;
  /** The first interval between reads, in ms. Default 1000. */
  initialDelay?: number | undefined;
  /** The longest interval, in ms. Default 600000 (10 minutes, as Flows). */
  maxDelay?: number | undefined;
  /** What each interval is multiplied by. Default 2. */
  factor?: number | undefined;
  /** The statuses to stop at. Default SUCCEEDED, FAILED and INACTIVE; leave INACTIVE out to keep polling while a person acts. */
  until?: readonly ActionStatusValue[] | undefined;
  /** How many failures in a row that may pass (no answer, 5xx, 429) are retried. Default 3. */
  retries?: number | undefined;
}

/** The clock and sleep of the client's instance. */
export interface WaitEnvironment {
  clock: () => number;
  sleep: Sleep;
}

/** A real sleep: setTimeout, cut short by the signal. */
export const sleepFor: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * How long a read started at (or just before) the deadline may take. A read is cut short at the
 * deadline, or this long after it starts if that is later: the last read still gets an answer,
 * and a provider that never answers cannot hold the wait past the deadline by more than this.
 */
export const LAST_READ_MS = 10_000;

interface Schedule {
  initialDelay: number;
  maxDelay: number;
  factor: number;
  deadline: number | undefined;
  until: readonly ActionStatusValue[];
  retries: number;
}

const positive = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0;

/** The options checked (a TypeError naming the field), with their defaults. */
function schedule(options: WaitOptions): Schedule {
  const { initialDelay = 1_000, factor = 2, until = SETTLED, retries = 3 } = options;
  if (!positive(initialDelay)) throw new TypeError('waitFor: initialDelay must be a positive number of ms');
  const maxDelay = options.maxDelay ?? Math.max(DEFAULT_MAX_DELAY, initialDelay);
  if (!positive(maxDelay) || maxDelay < initialDelay)
    throw new TypeError('waitFor: maxDelay must be a number of ms no less than initialDelay');
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1)
    throw new TypeError('waitFor: factor must be a number of at least 1');
  if (!Array.isArray(until) || until.length === 0) throw new TypeError('waitFor: until must list at least one status');
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('waitFor: retries must be a whole number');
  const { deadline } = options;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (at !== undefined && (typeof at !== 'number' || !Number.isFinite(at)))
    throw new TypeError('waitFor: deadline must be a Date or a time in ms since the epoch');
  if (options.onStatus !== undefined && typeof options.onStatus !== 'function')
    throw new TypeError('waitFor: onStatus must be a function');
  return { initialDelay, maxDelay, factor, deadline: at, until, retries };
}

/** A failure worth another try: nothing answered, the provider is overloaded or failing. */
function isTransient(error: unknown): boolean {
  if (!isActionProviderError(error)) return false;
  if (error.status === undefined) return error.code === 'NetworkError';
  return error.status >= 500 || error.status === 429;
}

/**
 * A signal for one read that aborts `left` ms from now (at least LAST_READ_MS), or with
 * `signal`. Real time, not the injected sleep: it watches a real request, and an injected sleep
 * that returns at once would cut every read short. Not `AbortSignal.any`: Node may collect the
 * signal it makes while a fetch still follows it (seen after a large body was read), and the
 * read would then never be cut.
 */
function readCut(left: number, signal: AbortSignal | undefined): { signal: AbortSignal; stop(): void } {
  const cut = new AbortController();
  const stopped = new AbortController();
  const follow = () => cut.abort(signal?.reason);
  if (signal?.aborted) follow();
  else signal?.addEventListener('abort', follow, { once: true });
  sleepFor(Math.max(left, LAST_READ_MS), stopped.signal).then(
    () => cut.abort(new Error('deadline')),
    () => {},
  );
  return {
    signal: cut.signal,
    stop: () => {
      signal?.removeEventListener('abort', follow);
      stopped.abort();
    },
  };
}

/**
 * Read the status with `read` until it is one of `until` (resolving with it), the deadline
 * passes or the signal aborts (rejecting).
 */
export async function waitForStatus(
  read: (signal: AbortSignal | undefined) => Promise<ActionStatus>,
  options: WaitOptions,
  env: WaitEnvironment,
): Promise<ActionStatus> {
  const plan = schedule(options);
  const { signal, onStatus } = options;
  let delay = plan.initialDelay;
  let last: ActionStatus | undefined;
  let failures = 0;
  const passed = () => {
    const seen = last === undefined ? 'before any status was read' : `while it was ${last.status}`;
    return new ActionProviderError({
      code: 'DeadlineExceeded',
      description: `the deadline passed ${seen}`,
      action: last,
    });
  };
  for (;;) {
    signal?.throwIfAborted();
    const cut = plan.deadline === undefined ? undefined : readCut(plan.deadline - env.clock(), signal);
    try {
      last = await read(cut?.signal ?? signal);
      failures = 0;
      await onStatus?.(last);
      if (plan.until.includes(last.status)) return last;
    } catch (error) {
      signal?.throwIfAborted();
      if (cut?.signal.aborted) throw passed();
      if (!isTransient(error) || ++failures > plan.retries) throw error;
    } finally {
      cut?.stop();
    }
    let wait = delay;
    if (plan.deadline !== undefined) {
      const left = plan.deadline - env.clock();
      if (left <= 0) throw passed();
      wait = Math.min(wait, left);
    }
    await env.sleep(wait, signal);
    delay = Math.min(delay * plan.factor, plan.maxDelay);
  }
}
