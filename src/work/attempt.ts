/**
 * @module work/attempt: one attempt at an action's work: the callback called with its context,
 * progress written in order through the versioned update, the deadline enforced, and the
 * outcome turned into the action's end (completed once), a retry with back-off, or the lease
 * handed back (shutdown).
 */
import * as v from 'valibot';
import { isConsentRequired } from '../auth/consent.ts';
import { isAuthorizationRequired } from '../auth/gare.ts';
import { isActionError } from '../http/errors.ts';
import { toView } from '../lifecycle.ts';
import { failureLog, logSafe } from '../logger.ts';
import { type ActionRecord, type ActionUpdate, ActionUpdateSchema } from '../model.ts';
import { callForUpdate, inactiveOnRequirement, load, mutate } from '../operations/kernel.ts';
import { keptToken } from '../operations/tokens.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import type { WorkCallback } from './runner.ts';
import type { WorkerSettings } from './settings.ts';
import { type LeasedJob, WorkAborted, type WorkAbortReason, type WorkContext, type WorkProgress } from './types.ts';

/** One attempt at an action's work, on this instance. */
export interface Running {
  readonly job: LeasedJob;
  readonly controller: AbortController;
  /** The last record this attempt wrote or read (progress builds on it). */
  current: ActionRecord;
  /** Progress writes, one after another, so a later checkpoint never lands before an earlier one. */
  writes: Promise<unknown>;
  /** Shutdown gave up waiting for it: its lease is given back and it may write nothing more. */
  detached: boolean;
  /** The write failing the action at its deadline, once the deadline timer fired. */
  finishing?: Promise<boolean>;
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
export const ABORT_SETTLE_MS = 2_000;
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

const pastDeadline = (): ActionUpdate =>
  failedUpdate('DeadlineExceeded', "The action's deadline passed before its work ended");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Abort the attempt's signal for `reason`, unless it is aborted already. */
export function abort(run: Running, reason: WorkAbortReason): void {
  if (!run.controller.signal.aborted) run.controller.abort(aborted(reason));
}

/** Why the attempt's signal aborted, if it did. */
export function reasonOf(run: Running): WorkAbortReason | undefined {
  return run.controller.signal.aborted ? (run.controller.signal.reason as WorkAborted).reason : undefined;
}

/** Runs attempts for the worker: `execute(run)` resolves once the attempt and its bookkeeping are over. */
/** How an attempt ended: a final update stored, a retry scheduled, stopped (cancel, shutdown, lease lost), or it threw. */
export type AttemptOutcome = 'completed' | 'retry' | 'stopped' | 'failed';

export function attemptRunner(
  config: ProviderConfig,
  work: WorkCallback,
  settings: WorkerSettings,
): (run: Running) => Promise<AttemptOutcome> {
  const { logger, clock } = config;
  const logFailure = failureLog(logger, clock);

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

  const execute = async (run: Running): Promise<AttemptOutcome> => {
    const { job } = run;
    const record = run.current;
    const deadline = record.request.deadline === null ? Number.NaN : Date.parse(record.request.deadline);
    if (deadline <= clock()) {
      if (await finish(run, pastDeadline())) {
        await job.complete();
      }
      return 'completed';
    }
    if (job.attempt > settings.maxAttempts) {
      const description = `The work did not complete in ${settings.maxAttempts} attempts`;
      if (await finish(run, failedUpdate('RetriesExhausted', description, { attempts: job.attempt - 1 }))) {
        await job.complete();
      }
      return 'completed';
    }
    // At the deadline the action fails at once, whether or not the work heeds its signal. A
    // timer holds at most 24.8 days: a later deadline is waited for in steps.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const atDeadline = () => {
      const left = deadline - clock();
      if (left > 0) {
        timer = setTimeout(atDeadline, Math.min(MAX_TIMER, left));
        return;
      }
      abort(run, 'deadline');
      run.finishing = finish(run, pastDeadline());
    };
    if (Number.isFinite(deadline)) timer = setTimeout(atDeadline, Math.min(MAX_TIMER, deadline - clock()));
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
      // job are freed now; nothing it does later is written. Past its deadline, the job goes
      // only once the FAILED is stored (else its lease runs out and the next attempt fails it).
      const ended = (await run.finishing) ?? true;
      run.detached = true;
      logger.warn('background work did not stop when its signal aborted; its result will be dropped', {
        action_id: job.actionId,
        reason: reasonOf(run),
      });
      if (reasonOf(run) !== 'lease-lost' && ended) await job.complete();
      return 'stopped';
    }
    await run.writes;
    if (run.detached) return 'stopped'; // shutdown gave its lease back already
    const reason = reasonOf(run);
    if ('update' in outcome) {
      // Finished, even if asked to stop meanwhile: its result stands unless the action completed first.
      if (await finish(run, outcome.update)) await job.complete();
      return 'completed';
    }
    const { error } = outcome;
    if (reason === 'shutdown') {
      await job.release();
      return 'stopped';
    }
    if (reason === 'lease-lost') return 'stopped'; // another instance has it
    if (reason === 'canceled') {
      await job.complete();
      return 'stopped';
    }
    if (reason === 'deadline') {
      if (await (run.finishing ?? finish(run, pastDeadline()))) await job.complete();
      return 'completed';
    }
    // An unavailable store or upstream, or a write that lost to others five times, is worth
    // another attempt, not the end of the action.
    const waits = isConsentRequired(error) || isAuthorizationRequired(error);
    if (waits || (isActionError(error) && error.code !== 'ServiceUnavailable' && error.code !== 'ActionConflict')) {
      const update = waits ? inactiveOnRequirement(config, error) : failedUpdate(error.code, error.description);
      if (await finish(run, update)) await job.complete();
      return 'completed';
    }
    // Once per cause a minute: a store or upstream outage fails every work alike.
    logFailure('error', 'background work failed', error, { action_id: job.actionId, attempt: job.attempt });
    if (job.attempt >= settings.maxAttempts) {
      const description = `The work failed in each of its ${job.attempt} attempts; the errors are in the provider's log`;
      if (await finish(run, failedUpdate('RetriesExhausted', description, { attempts: job.attempt }))) {
        await job.complete();
      }
      return 'completed';
    }
    await job.retry(backoff(job.attempt));
    return 'retry';
  };

  const { telemetry } = config;
  if (telemetry === undefined) return execute;
  // With telemetry: each attempt's start, end and duration (what the work metrics count).
  return async (run) => {
    const { actionId, attempt } = run.job;
    const started = performance.now();
    telemetry.work({ type: 'started', actionId, attempt });
    let outcome: AttemptOutcome = 'failed';
    try {
      outcome = await execute(run);
      return outcome;
    } finally {
      telemetry.work({ type: 'finished', actionId, attempt, outcome, durationMs: performance.now() - started });
    }
  };
}
