/**
 * @module auth/globus/limits: the bounds on what callers can make `globusAuth` ask of Globus:
 * one request's time budget for all its calls, and an instance's outstanding introspections.
 *
 * Deadlines are `Date.now()` ms, not the injectable clock: they end in real timers
 * (`AbortSignal.timeout`, `setTimeout`), which a test's manual clock does not move.
 */
import { ActionError } from '../../http/errors.ts';
import { unavailable } from './client.ts';

/**
 * One request's time for Globus: every call it makes (introspection, dependent grant, Groups,
 * retries, and waiting on another request's identical call) draws on it. Only time spent waiting
 * on Globus counts, calls at the same time once: a callback that works for a minute and then asks
 * `tokenFor` gets what is left, and once nothing is, only cached answers.
 */
export interface RequestBudget {
  /** Runs `work` with this request's deadline, and spends the time until it settles. */
  spend<T>(work: (deadline: number) => Promise<T>): Promise<T>;
}

class Budget implements RequestBudget {
  #left: number;
  /** Calls under way; while any is, time is being spent since `#since`. */
  #busy = 0;
  #since = 0;

  constructor(timeout: number) {
    this.#left = timeout;
  }

  async spend<T>(work: (deadline: number) => Promise<T>): Promise<T> {
    const now = Date.now();
    if (this.#busy++ === 0) this.#since = now;
    // While other calls are under way the deadline is theirs: the time since they began is spent.
    const deadline = this.#since + Math.max(0, this.#left);
    try {
      return await work(deadline);
    } finally {
      if (--this.#busy === 0) this.#left -= Date.now() - this.#since;
    }
  }
}

/**
 * A fresh budget of `timeout` ms, started when authentication starts.
 *
 * @example
 * ```ts
 * const budget = requestBudget(10_000)
 * const groups = await budget.spend((deadline) => fetchMyGroups({ fetch, url, credentials, deadline }))
 * ```
 */
export function requestBudget(timeout: number): RequestBudget {
  return new Budget(timeout);
}

/**
 * `pending`, or a 503 from `service` once `deadline` passes: how a request stops waiting for a
 * call another request started with a later deadline of its own.
 */
export function beforeDeadline<T>(pending: Promise<T>, deadline: number, service: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(service, new Error('the request spent its time budget for Globus'))),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/** At most `max` calls at once; one more is refused at once rather than queued. */
export type Limiter = <T>(work: () => Promise<T>) => Promise<T>;

/** Seconds a client is told to wait when introspections are saturated: they last a Globus round trip. */
const RETRY_AFTER = '1';

/**
 * A limiter of outstanding introspections. Refusing (503 with Retry-After) instead of queueing
 * keeps a flood of bogus tokens from holding requests, memory and Globus calls without bound.
 *
 * @example
 * ```ts
 * const limited = introspectionLimiter(100)
 * const info = await limited(() => introspectToken(call, token))
 * ```
 */
export function introspectionLimiter(max: number): Limiter {
  let outstanding = 0;
  return async (work) => {
    if (outstanding >= max) {
      throw new ActionError('ServiceUnavailable', 'Too many tokens are being checked at once; try again shortly', {
        headers: { 'retry-after': RETRY_AFTER },
      });
    }
    outstanding++;
    try {
      return await work();
    } finally {
      outstanding--;
    }
  };
}
