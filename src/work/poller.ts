/**
 * @module work/poller: the claim loop the polling engines share (SQLite's lease table,
 * pg-boss): claim what is due up to the free slots, one poll at a time, again at once when a
 * job ends or work is scheduled here, else every `pollInterval`; its timer never keeps a process up.
 */
import { type Logger, logSafe } from '../logger.ts';
import type { LeasedJob } from './types.ts';

/** A claimed job, and what the engine does once its handler has ended. */
export interface Claimed {
  job: LeasedJob;
  ended?: () => void;
}

export interface PollerOptions {
  /** For the log line when a poll fails. */
  name: string;
  concurrency: number;
  pollInterval: number;
  logger: Logger;
  /** Claim at most `free` due jobs. */
  claim(free: number): Promise<readonly Claimed[]>;
}

export interface Poller {
  /** Look for work now (after a schedule here); a poll in progress polls again after. */
  poll(): void;
  /** Hand claimed jobs to `handle` from now on, and poll. */
  start(handle: (job: LeasedJob) => Promise<void>): void;
  /** Stop claiming; resolves once a poll in progress is over (its jobs are handed over already). */
  stop(): Promise<void>;
}

const MAX_TIMER = 2_147_483_647;

export function poller(options: PollerOptions): Poller {
  const { concurrency, pollInterval, logger } = options;
  let handler: ((job: LeasedJob) => Promise<void>) | undefined;
  let running = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> | undefined;
  let again = false;

  const later = (ms: number) => {
    clearTimeout(timer);
    if (handler === undefined) return;
    timer = setTimeout(poll, Math.min(MAX_TIMER, ms));
    (timer as { unref?: () => void }).unref?.();
  };

  const poll = (): void => {
    if (polling !== undefined) {
      again = true;
      return;
    }
    const run = handler;
    const free = concurrency - running;
    // Nothing to claim for (every slot busy: a job's end polls again). Checked before the poll
    // starts: a poll that returned without awaiting ran its `finally` before `polling` was
    // assigned, so `polling` stayed set for good and no poll ever ran again.
    if (run === undefined || free <= 0) return;
    polling = (async () => {
      try {
        // Claimed for `run` even if the worker stops meanwhile: the runner gives those back.
        const claimed = await options.claim(free);
        for (const { job, ended } of claimed) {
          running++;
          // The runner logs its own failures; a rejection here must not end the process.
          void run(job)
            .catch(() => {})
            .finally(() => {
              running--;
              ended?.();
              poll();
            });
        }
        if (claimed.length === free) again = true; // there may be more
      } catch (error) {
        logger.warn('looking for background work failed; trying again', {
          engine: options.name,
          error: logSafe(error),
        });
      } finally {
        polling = undefined;
        if (again && handler !== undefined) {
          again = false;
          queueMicrotask(poll);
        } else later(pollInterval);
      }
    })();
  };

  return {
    poll: () => {
      if (handler !== undefined) queueMicrotask(poll);
    },
    start(handle) {
      handler = handle;
      poll();
    },
    async stop() {
      handler = undefined;
      clearTimeout(timer);
      await polling;
    },
  };
}
