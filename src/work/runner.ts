/**
 * @module work/runner: runs the `work` callback for actions an engine leases to this instance,
 * and owns what background work means: at-least-once under a lease renewed by heartbeats,
 * progress through the versioned update, retries with back-off then FAILED, the signal aborted
 * on cancel (noticed at once here, within a heartbeat elsewhere), at the deadline and at
 * shutdown, and exactly one completion as a client sees it (the version check decides).
 */
import * as v from 'valibot';
import { isConsentRequired } from '../auth/consent.ts';
import { isActionError } from '../http/errors.ts';
import { isCompleted, toView } from '../lifecycle.ts';
import { logSafe } from '../logger.ts';
import { type ActionRecord, type ActionUpdate, ActionUpdateSchema } from '../model.ts';
import { callForUpdate, inactiveOnConsent, load, mutate } from '../operations/kernel.ts';
import { keptToken } from '../operations/tokens.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import type { WorkerSettings } from './settings.ts';
import {
  type LeasedJob,
  WorkAborted,
  type WorkAbortReason,
  type WorkContext,
  type WorkEngine,
  type WorkInfo,
  type WorkProgress,
  type WorkWake,
} from './types.ts';

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
}

interface Running {
  readonly job: LeasedJob;
  readonly controller: AbortController;
  /** The last record this attempt wrote or read (progress builds on it). */
  current: ActionRecord;
  /** Progress writes, one after another, so a later checkpoint never lands before an earlier one. */
  writes: Promise<unknown>;
  /** Shutdown gave up waiting for it: its lease is given back and it may write nothing more. */
  detached: boolean;
  /** The attempt's promise, settled when the callback and its bookkeeping are over. */
  done?: Promise<void>;
}

const ProgressSchema = v.strictObject({
  display_status: ActionUpdateSchema.entries.display_status,
  details: ActionUpdateSchema.entries.details,
  state: ActionUpdateSchema.entries.state,
});

/** How often a final write is tried while the store is unavailable, before the lease is left to expire. */
const FINISH_ATTEMPTS = 5;
/** How long aborted work gets to settle at shutdown before its lease is given back regardless. */
const ABORT_SETTLE_MS = 2_000;
const MAX_TIMER = 2_147_483_647;

const aborted = (reason: WorkAbortReason): WorkAborted =>
  new WorkAborted(
    reason,
    {
      canceled: 'The action was cancelled or completed elsewhere',
      deadline: "The action's deadline passed",
      shutdown: 'The instance is shutting down; the work will be taken up again from its last checkpoint',
      'lease-lost': "This instance lost the work's lease; another instance may be running it",
    }[reason],
  );

const failedUpdate = (code: string, description: string, extra: Record<string, unknown> = {}): ActionUpdate => ({
  status: 'FAILED',
  display_status: code === 'DeadlineExceeded' ? 'Deadline exceeded' : 'Failed',
  details: { code, description, ...extra },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createWorker(
  config: ProviderConfig,
  work: WorkCallback,
  settings: WorkerSettings,
  engine: WorkEngine,
): WorkerInternals {
  const { logger, clock } = config;
  const active = new Map<string, Running>();
  let phase: 'idle' | 'started' | 'stopping' | 'stopped' = 'idle';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let beat: ReturnType<typeof setInterval> | undefined;

  const abort = (run: Running, reason: WorkAbortReason) => {
    if (!run.controller.signal.aborted) run.controller.abort(aborted(reason));
  };
  const reasonOf = (run: Running): WorkAbortReason | undefined =>
    run.controller.signal.aborted ? (run.controller.signal.reason as WorkAborted).reason : undefined;

  /** Write `update` unless the action is completed already (then the first completion stands). */
  const finish = async (run: Running, update: ActionUpdate): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      if (run.detached) return false;
      try {
        await run.writes.catch(() => {});
        const latest = (await load(config, run.job.actionId)) ?? run.current;
        await mutate(config, latest, async (current) => (current.status === 'ACTIVE' ? update : undefined));
        return true;
      } catch (error) {
        if (isActionError(error) && error.code === 'ActionNotFound') return true; // released: nothing to finish
        if (attempt >= FINISH_ATTEMPTS) {
          logger.error('the result of background work could not be stored; it will run again', {
            action_id: run.job.actionId,
            error: logSafe(error),
          });
          return false;
        }
        await sleep(200 * 2 ** attempt);
      }
    }
  };

  const progress = (run: Running) => (update: WorkProgress) => {
    const checked = v.safeParse(ProgressSchema, update ?? {});
    if (!checked.success) {
      return Promise.reject(new TypeError(`progress: ${formatIssues(checked.issues, false)}`));
    }
    const write = run.writes.then(async () => {
      const reason = reasonOf(run);
      if (run.detached || reason === 'canceled' || reason === 'deadline' || reason === 'lease-lost') {
        throw run.detached ? aborted('shutdown') : run.controller.signal.reason;
      }
      const stored = await mutate(config, run.current, async (current) =>
        current.status === 'ACTIVE' ? { ...checked.output, status: 'ACTIVE' } : undefined,
      );
      run.current = stored;
      if (stored.status !== 'ACTIVE') {
        abort(run, 'canceled');
        throw run.controller.signal.reason;
      }
    });
    run.writes = write.catch(() => {});
    return write;
  };

  /**
   * Resolves undefined once the work has had ABORT_SETTLE_MS to heed a cancel, a deadline or a
   * lost lease, and has not (never for shutdown: stop() gives that work its grace period).
   */
  const ignored = (run: Running): Promise<undefined> =>
    new Promise((resolve) => {
      const { signal } = run.controller;
      const onAbort = () => {
        if (reasonOf(run) === 'shutdown') return;
        const timer = setTimeout(() => resolve(undefined), ABORT_SETTLE_MS);
        (timer as { unref?: () => void }).unref?.();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });

  const backoff = (attempt: number) => Math.min(settings.maxRetryDelay, settings.retryDelay * 2 ** (attempt - 1));

  const execute = async (run: Running): Promise<void> => {
    const { job } = run;
    const record = run.current;
    const deadline = record.request.deadline === null ? Number.NaN : Date.parse(record.request.deadline);
    if (deadline <= clock()) {
      if (await finish(run, failedUpdate('DeadlineExceeded', "The action's deadline passed before its work ended"))) {
        await job.complete();
      }
      return;
    }
    if (job.attempt > settings.maxAttempts) {
      const description = `The work did not complete in ${settings.maxAttempts} attempts`;
      if (await finish(run, failedUpdate('RetriesExhausted', description, { attempts: job.attempt - 1 }))) {
        await job.complete();
      }
      return;
    }
    // At the deadline the action fails at once, whether or not the work heeds its signal.
    const timer = Number.isFinite(deadline)
      ? setTimeout(
          () => {
            abort(run, 'deadline');
            void finish(run, failedUpdate('DeadlineExceeded', "The action's deadline passed before its work ended"));
          },
          Math.min(MAX_TIMER, deadline - clock()),
        )
      : undefined;
    let outcome: { update: ActionUpdate } | { error: unknown } | undefined;
    try {
      const context: WorkContext = {
        action: toView(record),
        signal: run.controller.signal,
        attempt: job.attempt,
        caller: { identity: record.creator_id },
        keptToken: keptToken(config, record),
        progress: progress(run),
      };
      const result = callForUpdate('work', () => work(context)).then((update) => {
        if (update.status === 'ACTIVE') {
          throw new TypeError('The work callback returned ACTIVE: return the final status (or INACTIVE), or throw');
        }
        return { update };
      });
      outcome = await Promise.race([result, ignored(run)]);
      if (outcome === undefined) result.catch(() => {}); // its late end goes nowhere
    } catch (error) {
      outcome = { error };
    } finally {
      clearTimeout(timer);
    }
    if (outcome === undefined) {
      // Cancelled or past its deadline, and still going: the action is over, so its slot and
      // job are freed now; nothing it does later is written.
      run.detached = true;
      logger.warn('background work did not stop when its signal aborted; its result will be dropped', {
        action_id: job.actionId,
        reason: reasonOf(run),
      });
      if (reasonOf(run) !== 'lease-lost') await job.complete();
      return;
    }
    await run.writes;
    if (run.detached) return; // shutdown gave its lease back already
    const reason = reasonOf(run);
    if ('update' in outcome) {
      // Finished, even if asked to stop meanwhile: its result stands unless the action completed first.
      if (await finish(run, outcome.update)) await job.complete();
      return;
    }
    const { error } = outcome;
    if (reason === 'shutdown') return job.release();
    if (reason === 'lease-lost') return; // another instance has it
    if (reason === 'canceled' || reason === 'deadline') {
      if (reason === 'deadline')
        await finish(run, failedUpdate('DeadlineExceeded', "The action's deadline passed before its work ended"));
      return job.complete();
    }
    // An unavailable store or upstream is worth another attempt, not the end of the action.
    if (isConsentRequired(error) || (isActionError(error) && error.code !== 'ServiceUnavailable')) {
      const update = isConsentRequired(error)
        ? inactiveOnConsent(config, error)
        : failedUpdate(error.code, error.description);
      if (await finish(run, update)) await job.complete();
      return;
    }
    logger.error('background work failed', { action_id: job.actionId, attempt: job.attempt, error: logSafe(error) });
    if (job.attempt >= settings.maxAttempts) {
      const description = `The work failed in each of its ${job.attempt} attempts; the errors are in the provider's log`;
      if (await finish(run, failedUpdate('RetriesExhausted', description, { attempts: job.attempt }))) {
        await job.complete();
      }
      return;
    }
    await job.retry(backoff(job.attempt));
  };

  const handle = async (job: LeasedJob): Promise<void> => {
    if (phase !== 'started' || active.has(job.actionId)) {
      // Stopping, or a second lease of work already running here (an expired lease taken back).
      await job.release().catch(() => {});
      return;
    }
    let record: ActionRecord | undefined;
    try {
      record = await load(config, job.actionId);
    } catch (error) {
      logger.error('background work could not read its action', { action_id: job.actionId, error: logSafe(error) });
      await job.retry(settings.retryDelay).catch(() => {});
      return;
    }
    // Released, completed, or waiting (INACTIVE: resume queues it again): no work to do.
    if (record === undefined || record.status !== 'ACTIVE') return job.complete();
    const run: Running = {
      job,
      controller: new AbortController(),
      current: record,
      writes: Promise.resolve(),
      detached: false,
    };
    active.set(job.actionId, run);
    run.done = execute(run)
      .catch((error: unknown) => {
        logger.error('background work bookkeeping failed', { action_id: job.actionId, error: logSafe(error) });
      })
      .finally(() => {
        if (active.get(job.actionId) === run) active.delete(job.actionId);
        beatWhileRunning();
      });
    beatWhileRunning();
    await run.done;
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
  let beating = false;
  const tick = () => {
    if (beating) return; // one heartbeat at a time: a slow store never piles them up
    beating = true;
    void heartbeat().finally(() => {
      beating = false;
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

  const start = (): Promise<void> =>
    (starting ??= (async () => {
      if (phase !== 'idle') return;
      phase = 'started';
      try {
        await engine.start(handle);
      } catch (error) {
        // Back to idle, so the next start() (or scheduled work) tries again.
        phase = 'idle';
        starting = undefined;
        logger.error('background work could not start', { engine: engine.name, error: logSafe(error) });
        throw error;
      }
      logger.info('background work started', { engine: engine.name, worker: settings.id });
    })());

  const stop = (options: { grace?: number } = {}): Promise<void> =>
    (stopping ??= (async () => {
      const grace = options.grace ?? settings.shutdownGrace;
      const wasStarted = phase === 'started';
      phase = 'stopping';
      await starting?.catch(() => {});
      if (wasStarted) await engine.stop();
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
    start,
    stop,
    async schedule(record) {
      const stored = await engine.schedule(record);
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
