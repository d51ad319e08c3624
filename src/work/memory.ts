/**
 * @module work/memory: the memory store's engine: work queued and leased in-process. Like the
 * store, it is lost on restart (the store says so once); it exists so a provider behaves the
 * same in a test or on a laptop as on SQLite or PostgreSQL.
 */
import type { ActionStore } from '../store/types.ts';
import type { EngineFactory, LeasedJob, WorkEngine, WorkInfo } from './types.ts';

interface Job {
  attempts: number;
  runAt: number;
  leased: boolean;
  /** Scheduled again while leased (a resume as an attempt ends): its end queues it instead. */
  requeued: boolean;
}

const MAX_TIMER = 2_147_483_647;

/** The engine of `store` (a memory store: its update is synchronous inside the promise). */
export function memoryWorkEngine(store: ActionStore): EngineFactory {
  return (settings): WorkEngine => {
    const { clock, owner, concurrency } = settings;
    const jobs = new Map<string, Job>();
    let handler: ((job: LeasedJob) => Promise<void>) | undefined;
    let running = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const leased = (actionId: string, job: Job): LeasedJob => {
      let over = false;
      const end = (then: () => void) => async () => {
        if (over) return;
        over = true;
        then();
        pump();
      };
      return {
        actionId,
        attempt: job.attempts,
        heartbeat: async () => !over && jobs.get(actionId) === job,
        complete: end(() => {
          if (jobs.get(actionId) !== job) return;
          if (job.requeued) {
            job.requeued = false;
            job.leased = false;
            job.attempts = 0;
            job.runAt = clock();
          } else jobs.delete(actionId);
        }),
        retry: async (delay) =>
          end(() => {
            job.leased = false;
            job.runAt = clock() + delay;
          })(),
        release: end(() => {
          job.leased = false;
          job.attempts--;
          job.runAt = clock();
        }),
      };
    };

    /** Lease due jobs up to the concurrency, earliest first; wake up for the next one due. */
    const pump = () => {
      if (handler === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      const now = clock();
      let next = Number.POSITIVE_INFINITY;
      while (running < concurrency) {
        let pick: [string, Job] | undefined;
        for (const entry of jobs) {
          const job = entry[1];
          if (job.leased) continue;
          if (job.runAt <= now && (pick === undefined || job.runAt < pick[1].runAt)) pick = entry;
          else if (job.runAt > now) next = Math.min(next, job.runAt);
        }
        if (pick === undefined) break;
        const [actionId, job] = pick;
        job.leased = true;
        job.requeued = false;
        job.attempts++;
        running++;
        const run = handler;
        // The runner logs its own failures; a rejection here must not end the process.
        void run(leased(actionId, job))
          .catch(() => {})
          .finally(() => {
            running--;
            // A handler that returned without ending its job (it could not reach the store): run it later.
            if (jobs.get(actionId) === job && job.leased) {
              job.leased = false;
              job.runAt = clock() + settings.pollInterval;
            }
            pump();
          });
      }
      if (Number.isFinite(next)) {
        timer = setTimeout(pump, Math.min(MAX_TIMER, Math.max(0, next - clock())));
        (timer as { unref?: () => void }).unref?.();
      }
    };

    return {
      name: 'memory',
      async schedule(record) {
        const stored = await store.update(record);
        if (stored !== undefined) {
          const queued = jobs.get(record.action_id);
          // Leased already (a resume as an attempt ends): run it again after that attempt.
          if (queued !== undefined) queued.requeued ||= queued.leased;
          else jobs.set(record.action_id, { attempts: 0, runAt: clock(), leased: false, requeued: false });
          queueMicrotask(pump);
        }
        return stored;
      },
      async start(handle) {
        handler = handle;
        pump();
      },
      async stop() {
        handler = undefined;
        clearTimeout(timer);
      },
      async inspect(actionIds) {
        const found = new Map<string, WorkInfo>();
        for (const id of actionIds) {
          const job = jobs.get(id);
          if (job === undefined) continue;
          found.set(id, {
            state: job.leased ? 'running' : 'queued',
            attempts: job.attempts,
            runAt: job.leased ? null : job.runAt,
            leaseHolder: job.leased ? owner : null,
            leaseExpires: null,
          });
        }
        return found;
      },
      async lag() {
        const now = clock();
        let oldest = now;
        for (const job of jobs.values()) if (!job.leased && job.runAt < oldest) oldest = job.runAt;
        return now - oldest;
      },
    };
  };
}
