/**
 * @module auth/periodic-check: an authenticator's `health()`: its upstream checked at most once
 * per interval, whoever asks and however often, with concurrent callers sharing the check in flight.
 */
import type { AuthHealth } from './types.ts';

export interface PeriodicCheckOptions {
  /** Ms a check is reused for. */
  interval: number;
  /** The authenticator's clock (ms since the epoch), so a test moves time by hand. */
  clock: () => number;
}

/**
 * `check` made at most once per `interval`: a load balancer probing every instance every few
 * seconds must not become as many calls to a shared upstream. A check that throws counts as the
 * upstream being unreachable, and is reused as long as a good one.
 *
 * @example
 * ```ts
 * const health = periodicCheck(async () => ({ reachable: true }), { interval: 30_000, clock: Date.now })
 * ```
 */
export function periodicCheck(
  check: () => Promise<Omit<AuthHealth, 'checkedAt'>>,
  { interval, clock }: PeriodicCheckOptions,
): () => Promise<AuthHealth> {
  let last: AuthHealth | undefined;
  let pending: Promise<AuthHealth> | undefined;
  return () => {
    const age = last === undefined ? Number.NaN : clock() - last.checkedAt;
    // A clock that went back counts as stale, not as fresh for ever.
    if (last !== undefined && age >= 0 && age < interval) return Promise.resolve(last);
    pending ??= (async () => {
      const checkedAt = clock();
      let found: Omit<AuthHealth, 'checkedAt'>;
      try {
        found = await check();
      } catch (error) {
        found = { reachable: false, error };
      }
      last = { ...found, checkedAt };
      pending = undefined;
      return last;
    })();
    return pending;
  };
}
