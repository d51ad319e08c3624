/**
 * @module store/sweeper: deletes expired actions on an interval (Node, Bun, Deno). Expired
 * actions are never served even before a sweep; the sweeper only reclaims their space.
 */
import type { Logger } from '../logger.ts';
import { logSafe } from '../logger.ts';

export interface SweeperOptions {
  /** What to call each time: usually `provider.sweep`. Resolves to how many actions went. */
  sweep: () => Promise<number>;
  /** Milliseconds between sweeps. Default 60,000. */
  interval?: number;
  logger?: Logger;
}

export interface Sweeper {
  /** Stop the timer and wait for a sweep in progress. */
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const sweeper = startSweeper({ sweep: provider.sweep, interval: 60_000 })
 * // ... on shutdown
 * await sweeper.stop()
 * ```
 */
export function startSweeper(options: SweeperOptions): Sweeper {
  const interval = options.interval ?? 60_000;
  if (!Number.isFinite(interval) || interval < 10 || interval > 2_147_483_647) {
    throw new TypeError('sweep interval: must be a number of ms from 10 to 2147483647');
  }
  // One sweep at a time: a tick that finds one still running is skipped, not queued, so a slow
  // database never piles sweeps up (nor makes stop() wait for a queue of them).
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= (async () => {
      try {
        const removed = await options.sweep();
        if (removed > 0) options.logger?.debug('expired actions deleted', { count: removed });
      } catch (error) {
        options.logger?.error('sweeping expired actions failed', { error: logSafe(error) });
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(tick, interval);
  // The sweeper alone must not keep a process alive.
  (timer as { unref?: () => void }).unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
