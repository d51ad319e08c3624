/**
 * @module work/runner: the background work of one instance: takes the jobs an engine leases to
 * it (one attempt each, see work/attempt.ts), renews their leases by heartbeats that also notice
 * a cancel made on another instance, aborts work here at once on a cancel made here, and starts
 * and stops gracefully (the grace period, then the signal, then the leases handed back).
 */
import { isCompleted } from '../lifecycle.ts';
import { logSafe } from '../logger.ts';
import type { ActionRecord } from '../model.ts';
import { load } from '../operations/kernel.ts';
import type { ProviderConfig } from '../options.ts';
import { ABORT_SETTLE_MS, abort, attemptRunner, type Running } from './attempt.ts';
import type { WorkerSettings } from './settings.ts';
import type { LeasedJob, WorkContext, WorkEngine, WorkInfo, WorkWake } from './types.ts';

/** The `work` callback as the runner calls it. */
export type WorkCallback = (context: WorkContext) => unknown;

/** `provider.worker`: the background work of this instance. */
export interface Worker {
  /** The engine's name (`memory`, `sqlite`, `pg-boss`, ...). */
  readonly engine: string;
  /** This instance's name in leases. */
  readonly id: string;
  /** Works running on this instance now. */
  readonly running: number;
  /**
   * Start taking work, that left by an instance that died included. The serve() helpers call
   * it; a provider inside another host calls it once at start (the first run scheduling work
   * starts it too). Idempotent.
   */
  start(): Promise<void>;
  /**
   * Stop taking work; let running work go on for `grace` ms (default `worker.shutdownGrace`),
   * then abort it and give its leases back, so another instance takes it up at once from its
   * last checkpoint. Resolves once no work of this instance touches the store.
   */
  stop(options?: { grace?: number }): Promise<void>;
}

/** What the provider's operations use: the public part plus scheduling and notices. */
export interface WorkerInternals extends Worker {
  /** Store `record` (ACTIVE) and queue its work in one transaction. */
  schedule(record: ActionRecord): Promise<ActionRecord | undefined>;
  /**
   * An action was changed on this instance (cancelled, completed): abort its work here if it
   * runs, else tell the engine (whose work may run elsewhere). Never rejects.
   */
  changed(record: ActionRecord): Promise<void>;
  inspect(actionIds: readonly string[]): Promise<Map<string, WorkInfo>>;
  /** For an engine woken from outside (a Durable Object's alarm): what its host calls. */
  readonly wake: WorkWake | undefined;
  /** Where the worker is in its life; `retrying`: its start failed, and it tries again by itself. */
  readonly phase: 'idle' | 'started' | 'retrying' | 'stopping' | 'stopped';
  /** The engine's `lag`, for an engine that can tell. */
  readonly lag: (() => Promise<number>) | undefined;
}

export function createWorker(
  config: ProviderConfig,
  work: WorkCallback,
  settings: WorkerSettings,
  engine: WorkEngine,
): WorkerInternals {
  const { logger } = config;
  const active = new Map<string, Running>();
  let phase: 'idle' | 'started' | 'stopping' | 'stopped' = 'idle';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let beat: ReturnType<typeof setInterval> | undefined;

  const execute = attemptRunner(config, work, settings);

  /** Handles between their lease and their place in `active` (reading the action): stop() waits for them. */
  const arriving = new Set<Promise<void>>();
  /** A job's end that fails (the store went away) is logged: its lease then runs out and it is taken again. */
  const settle = (job: LeasedJob, what: string, end: () => Promise<void>) =>
    end().catch((error: unknown) => {
      logger.warn(`background work could not be marked ${what}; its lease will run out`, {
        action_id: job.actionId,
        error: logSafe(error),
      });
    });

  /** Take the job: read its action, then run an attempt unless there is nothing to do or the worker stops. */
  const admit = async (job: LeasedJob): Promise<Running | undefined> => {
    const previous = active.get(job.actionId);
    if (previous !== undefined) {
      // A second lease of work running here (queued again as it ends, or an expired lease taken
      // back): it goes on once that attempt is over, rather than being handed back and taken
      // again in a loop.
      await Promise.race([previous.done, new Promise((resolve) => setTimeout(resolve, settings.lease))]);
      if (active.has(job.actionId)) {
        await settle(job, 'handed back', () => job.release());
        return undefined;
      }
    }
    if (phase !== 'started') {
      await settle(job, 'handed back', () => job.release());
      return undefined;
    }
    let record: ActionRecord | undefined;
    try {
      record = await load(config, job.actionId);
    } catch (error) {
      logger.error('background work could not read its action', { action_id: job.actionId, error: logSafe(error) });
      await settle(job, 'to retry', () => job.retry(settings.retryDelay));
      return undefined;
    }
    // Stopping while it read: hand it back, so no work starts against a store about to close.
    if (phase !== 'started' || active.has(job.actionId)) {
      await settle(job, 'handed back', () => job.release());
      return undefined;
    }
    // Released, completed, or waiting (INACTIVE: resume queues it again): no work to do.
    if (record === undefined || record.status !== 'ACTIVE') {
      await settle(job, 'done', () => job.complete());
      return undefined;
    }
    const run: Running = {
      job,
      controller: new AbortController(),
      current: record,
      writes: Promise.resolve(),
      detached: false,
    };
    active.set(job.actionId, run);
    return run;
  };

  const handle = async (job: LeasedJob): Promise<void> => {
    const admitted = admit(job);
    const arrival = admitted.then(
      () => {},
      () => {},
    );
    arriving.add(arrival);
    let run: Running | undefined;
    try {
      run = await admitted;
    } catch (error) {
      logger.error('background work could not start an attempt', { action_id: job.actionId, error: logSafe(error) });
    } finally {
      arriving.delete(arrival);
    }
    if (run === undefined) return;
    const running = run;
    running.done = execute(running)
      .then(() => {})
      .catch((error: unknown) => {
        logger.error('background work bookkeeping failed', { action_id: job.actionId, error: logSafe(error) });
      })
      .finally(() => {
        if (active.get(job.actionId) === running) active.delete(job.actionId);
        beatWhileRunning();
      });
    beatWhileRunning();
    await running.done;
  };

  /** Renew leases and notice work whose action was completed elsewhere (a cancel on another instance). */
  const heartbeat = async () => {
    let failed = 0;
    let last: unknown;
    await Promise.all(
      [...active.values()].map(async (run) => {
        if (run.detached) return;
        try {
          if (!(await run.job.heartbeat())) abort(run, 'lease-lost');
          const record = await load(config, run.job.actionId);
          if (record === undefined || record.status !== 'ACTIVE') abort(run, 'canceled');
        } catch (error) {
          failed++;
          last = error;
        }
      }),
    );
    // One line per heartbeat, however many works it failed for (a store outage fails them all).
    if (failed > 0) logger.warn('background work heartbeats failed', { failed, error: logSafe(last) });
  };
  let beating: Promise<void> | undefined;
  const tick = () => {
    if (beating !== undefined) return; // one heartbeat at a time: a slow store never piles them up
    beating = heartbeat().finally(() => {
      beating = undefined;
    });
  };
  /**
   * Heartbeats only while work runs here: an idle instance keeps no timer (a Worker's isolate,
   * whose engine runs work in Durable Objects, never has one).
   */
  const beatWhileRunning = () => {
    if (active.size > 0 && beat === undefined) {
      beat = setInterval(tick, settings.heartbeat);
      (beat as { unref?: () => void }).unref?.();
    } else if (active.size === 0 && beat !== undefined) {
      clearInterval(beat);
      beat = undefined;
    }
  };

  let restart: ReturnType<typeof setTimeout> | undefined;
  let failedStarts = 0;
  const start = (): Promise<void> =>
    (starting ??= (async () => {
      if (phase !== 'idle') return;
      phase = 'started';
      clearTimeout(restart);
      try {
        await engine.start(handle);
      } catch (error) {
        // Back to idle, and tried again by itself (1 s, doubling to 1 min): work left by a dead
        // instance must be taken up even if no new run arrives here.
        phase = 'idle';
        starting = undefined;
        const delay = Math.min(60_000, 1_000 * 2 ** failedStarts++);
        logger.error('background work could not start; trying again', {
          engine: engine.name,
          retry_in_ms: delay,
          error: logSafe(error),
        });
        restart = setTimeout(() => start().catch(() => {}), delay);
        (restart as { unref?: () => void }).unref?.();
        throw error;
      }
      failedStarts = 0;
      logger.info('background work started', { engine: engine.name, worker: settings.id });
    })());

  const stop = (options: { grace?: number } = {}): Promise<void> =>
    (stopping ??= (async () => {
      const grace = options.grace ?? settings.shutdownGrace;
      clearTimeout(restart);
      const wasStarted = phase === 'started';
      phase = 'stopping';
      await starting?.catch(() => {});
      if (wasStarted) await engine.stop();
      // Jobs leased just before: each hands itself back once it has read its action.
      await Promise.all(arriving);
      // The timer goes as soon as the work settles: a pending one would keep the process up.
      const within = (ms: number) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        return Promise.race([
          Promise.all([...active.values()].map((run) => run.done)),
          new Promise((resolve) => {
            timer = setTimeout(resolve, ms);
          }),
        ]).finally(() => clearTimeout(timer));
      };
      await within(grace);
      for (const run of active.values()) abort(run, 'shutdown');
      await within(ABORT_SETTLE_MS);
      // Work that ignores its signal: give its lease back now; nothing it does later is written.
      await Promise.all(
        [...active.values()].map(async (run) => {
          run.detached = true;
          await run.writes;
          await run.finishing;
          await run.job.release().catch((error: unknown) => {
            logger.warn('a lease could not be given back; it will expire', {
              action_id: run.job.actionId,
              error: logSafe(error),
            });
          });
        }),
      );
      clearInterval(beat);
      beat = undefined;
      await beating; // a heartbeat in flight touches the store too
      phase = 'stopped';
    })());

  const wakeOf = (wake: NonNullable<WorkEngine['wake']>): WorkWake => ({
    async take(actionId) {
      await start();
      return wake.take(actionId);
    },
    async notice(actionId) {
      const run = active.get(actionId);
      if (run === undefined || run.detached) return;
      // Read, not trusted: a notice late enough may be about an earlier state than this attempt's.
      const record = await load(config, actionId);
      if (record === undefined || record.status !== 'ACTIVE') abort(run, 'canceled');
    },
    recover: () => wake.recover(),
  });

  return {
    engine: engine.name,
    id: settings.id,
    get running() {
      return active.size;
    },
    get phase() {
      return phase === 'idle' && failedStarts > 0 ? 'retrying' : phase;
    },
    lag: engine.lag?.bind(engine),
    start,
    stop,
    async schedule(record) {
      const stored = await engine.schedule(record);
      if (stored !== undefined) config.telemetry?.work({ type: 'queued', actionId: record.action_id });
      if (phase === 'idle')
        void start().catch((error: unknown) =>
          logger.error('background work did not start', { error: logSafe(error) }),
        );
      return stored;
    },
    async changed(record) {
      if (!isCompleted(record.status) && record.status !== 'INACTIVE') return;
      const run = active.get(record.action_id);
      if (run !== undefined) return abort(run, 'canceled');
      await engine.changed?.(record.action_id).catch((error: unknown) => {
        logger.warn(
          'the place running background work could not be told of a change; it notices at its next heartbeat',
          {
            action_id: record.action_id,
            error: logSafe(error),
          },
        );
      });
    },
    inspect: (actionIds) => engine.inspect(actionIds),
    wake: engine.wake === undefined ? undefined : wakeOf(engine.wake),
  };
}
