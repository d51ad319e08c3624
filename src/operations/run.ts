/**
 * @module operations/run: start an action, idempotently. A placeholder is stored first (the
 * store's create-if-absent by (creator, request_id) makes a duplicate atomic, on this instance
 * or any other sharing the store), then `run` is called and its answer stored. A duplicate
 * with the identical request gets the acknowledged answer, never the placeholder; a different
 * request with the same `request_id` gets 409.
 */
import { demandSession } from '../auth/session.ts';
import type { Caller } from '../auth/types.ts';
import { isAllowed } from '../authorization.ts';
import { canonicalJson } from '../canonical-json.ts';
import { callbackContext } from '../context.ts';
import { readBody } from '../http/body.ts';
import { ActionError } from '../http/errors.ts';
import { parseJson } from '../http/json.ts';
import { applyUpdate, newRecord } from '../lifecycle.ts';
import type { ActionRecord } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { parseActionRequest } from '../validation/request.ts';
import type { WorkerInternals } from '../work/runner.ts';
import {
  authenticate,
  callForUpdate,
  inactiveOnConsent,
  load,
  mutate,
  notFound,
  type Operation,
  type OperationInput,
  ok,
} from './kernel.ts';
import { attachKept, dropUnstored, keeping } from './tokens.ts';

const MAX_RUN_ATTEMPTS = 5;
const MAX_ABANDONED = 10_000;
const PENDING_POLL_MS = 25;

export function runOperation(config: ProviderConfig, worker?: WorkerInternals): Operation {
  const { store, clock } = config;
  /** Runs in progress in this instance, so a concurrent duplicate can wait for the real result. */
  const inflight = new Map<string, Promise<ActionRecord>>();
  /**
   * Placeholders of runs that failed here and that the store could not delete then (it was
   * down): a retry on this instance removes one at once instead of waiting `runTimeout` for a
   * run that is known to be over. Bounded: past the bound the oldest are forgotten (a retry
   * then waits, as it does on another instance).
   */
  const abandoned = new Set<string>();
  const abandon = (actionId: string) => {
    abandoned.add(actionId);
    if (abandoned.size > MAX_ABANDONED) abandoned.delete(abandoned.values().next().value as string);
  };
  const rules = { input: config.input, maximumDeadline: config.description.maximum_deadline, scrub: config.scrub };

  return async (input) => {
    const caller = await authenticate(config, input);
    if (!(await isAllowed(config.description.runnable_by, caller))) {
      throw new ActionError('ForbiddenRequest', 'Not allowed to run this provider');
    }
    // Unmet: a 403 whose body is the GARE of what is missing (routes' onError), nothing stored.
    if (config.session !== undefined) await demandSession(caller, config.session);
    const now = clock();
    const parsed = parseActionRequest(parseJson(await readBody(input.request, config.bodyLimit)), now, rules);
    // Awaited only when a schema validated asynchronously: `await` on a plain value costs a tick.
    const request = parsed instanceof Promise ? await settled(parsed, config.runTimeout, input.request.signal) : parsed;
    const record = newRecord({ actionId: config.generateId(), caller, request, startTime: config.formatTime(now) });
    for (let attempt = 0; attempt < MAX_RUN_ATTEMPTS; attempt++) {
      const created = await store.create(record);
      if (created.created) {
        if (input.scope !== undefined) input.scope.actionId = record.action_id;
        const pending = start(config, record, caller, input, abandon, worker);
        inflight.set(record.action_id, pending);
        try {
          return ok(input, await pending, 202);
        } finally {
          inflight.delete(record.action_id);
        }
      }
      const existing = created.record;
      if (existing.expires_at !== null && existing.expires_at <= clock() && attempt === 0) {
        await store.delete(existing.action_id); // expired but not swept yet: its request_id is free
        continue;
      }
      if (canonicalJson(existing.request) !== canonicalJson(request)) {
        throw new ActionError(
          'ActionConflict',
          `request_id ${request.request_id} was already used for a different request`,
        );
      }
      if (input.scope !== undefined) input.scope.actionId = existing.action_id;
      const running = inflight.get(existing.action_id);
      if (running !== undefined) return ok(input, await running);
      if (abandoned.has(existing.action_id) && existing.version === 1) {
        await store.delete(existing.action_id); // still down: this is the 503
        abandoned.delete(existing.action_id);
        continue;
      }
      const settled = await settledRun(config, existing);
      if (settled === undefined) continue; // that run failed or was abandoned: this request runs it
      return ok(input, settled);
    }
    throw new ActionError('ActionConflict', `request_id ${request.request_id} is being run concurrently; retry`);
  };
}

/**
 * An asynchronous validation's answer, or the 503 once it has taken `timeout` ms or the
 * request's signal aborts (a client gone, Lambda's deadline): a schema whose promise never
 * settles must not hold the request. Nothing is stored before validation ends, so giving up
 * on one leaves nothing behind; its late answer, or failure, goes nowhere.
 */
function settled<T>(validation: Promise<T>, timeout: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const giveUp = (when: string) =>
      reject(new ActionError('ServiceUnavailable', `The input schema did not finish validating the body ${when}`));
    const aborted = () => giveUp('before the request was aborted');
    const timer = setTimeout(() => giveUp(`within ${timeout} ms`), timeout);
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
    validation.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
    });
  });
}

/**
 * Call `run` for the stored placeholder and store its answer. Until that answer is stored
 * nothing was acknowledged: on any failure the placeholder goes (as far as the store can still
 * delete it), so no ghost ACTIVE action stays behind and a retry need not wait for it. Tokens
 * `keepTokens` kept are stored with the answer, and revoked when it is not stored with them
 * (a failure, or an answer that completes the action at once).
 */
async function start(
  config: ProviderConfig,
  record: ActionRecord,
  caller: Caller,
  input: OperationInput,
  abandon: (actionId: string) => void,
  worker: WorkerInternals | undefined,
): Promise<ActionRecord> {
  const { store } = config;
  const kept = keeping(config, caller, record.action_id);
  let stored: ActionRecord | undefined;
  let scheduling: WorkerInternals | undefined;
  try {
    const context = callbackContext(input, caller, {
      request: record.request,
      actionId: record.action_id,
      keepTokens: kept.keepTokens,
    });
    const update = await callForUpdate('run', () => config.callbacks.run(context)).catch((error: unknown) =>
      inactiveOnConsent(config, error),
    );
    const sealed = kept.sealed;
    const next = applyUpdate(
      record,
      sealed === undefined ? update : { ...update, offline_tokens: sealed },
      config.clock(),
      config.formatTime,
    );
    // Left ACTIVE with background work: the answer and its work are stored together, or neither.
    scheduling = worker !== undefined && next.status === 'ACTIVE' ? worker : undefined;
    stored = scheduling !== undefined ? await scheduling.schedule(next) : await store.update(next);
  } catch (error) {
    // The store being down is the error already; if so, the placeholder is left for a retry to remove.
    await store.delete(record.action_id).catch(() => abandon(record.action_id));
    await dropUnstored(config, record.action_id, kept.sealed, undefined);
    throw error;
  }
  if (stored !== undefined) {
    await dropUnstored(config, record.action_id, kept.sealed, stored);
    return stored;
  }
  // The action was updated while run was executing (provider.actions.update from a
  // background job): that write is newer than run's answer, so it stands, with run's tokens added.
  const latest = await load(config, record.action_id);
  if (latest === undefined) {
    await dropUnstored(config, record.action_id, kept.sealed, undefined);
    throw notFound(record.action_id);
  }
  const current = kept.sealed === undefined ? latest : await attachKept(config, latest, kept.sealed);
  // The work run's ACTIVE answer meant to schedule was not stored with it: queue it with the
  // newer record, as long as that one is still ACTIVE (else it has no work to do).
  const owed = scheduling;
  if (owed === undefined) return current;
  return mutate(
    config,
    current,
    async (now) => (now.status === 'ACTIVE' ? { status: 'ACTIVE' } : undefined),
    (next) => owed.schedule(next),
  );
}

/**
 * Wait for a run another instance is still executing (its placeholder is version 1) to store
 * its answer, so a duplicate is never told something that was not acknowledged. Undefined when
 * the run failed (its placeholder was deleted) or was abandoned: a placeholder older than
 * `runTimeout` belongs to an instance that died mid-run, and is deleted to free its request_id.
 * The wait itself is bounded by counting polls, so it ends whatever the injected clock does.
 */
async function settledRun(config: ProviderConfig, record: ActionRecord): Promise<ActionRecord | undefined> {
  let current: ActionRecord | undefined = record;
  for (let polls = Math.ceil(config.runTimeout / PENDING_POLL_MS); current?.version === 1; polls--) {
    if (polls <= 0 || config.clock() - Date.parse(current.start_time) >= config.runTimeout) {
      await config.store.delete(current.action_id);
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, PENDING_POLL_MS));
    current = await load(config, current.action_id);
  }
  return current;
}
