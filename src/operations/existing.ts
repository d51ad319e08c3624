/**
 * @module operations/existing: status, cancel and resume, the operations that may change an
 * existing action through their callback. None calls back once the action is completed. A
 * resume by the creator of an INACTIVE action that keeps tokens renews them first. An INACTIVE
 * action waiting on a session requirement (its details a GARE) continues once someone who may
 * manage it calls with a session that satisfies it: on resume, or on status, since Flows polls
 * rather than resumes for any requirement but consent.
 */
import { AuthorizationRequiredError } from '../auth/gare.ts';
import { awaitedRequirement, bothRequirements, sessionShortfall } from '../auth/session.ts';
import type { Caller } from '../auth/types.ts';
import { canManage } from '../authorization.ts';
import { type ActionContext, callbackContext } from '../context.ts';
import { ActionError, isActionError } from '../http/errors.ts';
import { toStatus, toView } from '../lifecycle.ts';
import { type ActionRecord, type ActionUpdate, isPlainObject } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import type { WorkerInternals } from '../work/runner.ts';
import {
  type ActionInput,
  authenticate,
  awaitingLogin,
  callForUpdate,
  inactiveOnRequirement,
  loadManageable,
  loadVisible,
  mutate,
  mutateActive,
  type Operation,
  ok,
  reactivating,
  reply,
} from './kernel.ts';
import { dropUnstored, keptToken, renewOnResume } from './tokens.ts';

/** What cancel does without a callback (new objects each time: a stored record owns its details). */
const canceled = (): ActionUpdate => ({
  status: 'FAILED',
  details: { code: 'ActionCanceled', description: 'The action was canceled' },
  display_status: 'Canceled',
});

/**
 * Status: the stored action, refreshed by the `status` callback while not completed. Answers
 * are serialised once per record: records are immutable (a change is a new record), so a store
 * that hands back the same object (memory) answers repeated polls without rebuilding it.
 * Weakly held, so the text goes with the record; only polled records pay.
 */
export function statusOperation(config: ProviderConfig, worker?: WorkerInternals): Operation<ActionInput> {
  const callback = config.callbacks.status;
  const resume = resumer(config, worker);
  // A status callback that makes an INACTIVE action ACTIVE again queues its work with it.
  const write = reactivating(config, worker);
  const polled = new WeakMap<ActionRecord, string>();
  const answer = (input: ActionInput, record: ActionRecord): Response => {
    let text = polled.get(record);
    if (text === undefined) {
      text = JSON.stringify(toStatus(record));
      polled.set(record, text);
    }
    return reply(input, text, 200);
  };
  return async (input) => {
    const caller = await authenticate(config, input);
    const record = await loadVisible(config, input.actionId, caller);
    // Only an INACTIVE action may be resumed by a poll: any other, without a callback, is answered
    // at once (reading `request.method` costs a poll about 1 µs on Node).
    const resumable = record.status === 'INACTIVE' && resume !== undefined;
    if (callback === undefined && !resumable) return answer(input, record);
    // HEAD asks what GET would answer without changing anything: no callback runs.
    if (input.request.method === 'HEAD') return answer(input, record);
    if (resumable) {
      const continued = await resumedByLogin(config, resume, input, caller, record);
      if (continued !== undefined) return answer(input, continued);
    }
    if (callback === undefined) return answer(input, record);
    const result = await updateWithConsent(config, { input, caller, record, name: 'status', callback, write });
    // Completed (or INACTIVE) by the callback: work running here stops now.
    if (result !== record) await worker?.changed(result);
    return answer(input, result);
  };
}

/** Cancel: the `cancel` callback's update, or FAILED with ActionCanceled details without one. */
export function cancelOperation(config: ProviderConfig, worker?: WorkerInternals): Operation<ActionInput> {
  const callback = config.callbacks.cancel;
  return async (input) => {
    const caller = await authenticate(config, input);
    const record = await loadManageable(config, input.actionId, caller);
    const result = await mutateActive(config, record, async (current) =>
      callback === undefined
        ? canceled()
        : callForUpdate('cancel', () =>
            callback(
              callbackContext(input, caller, { action: toView(current), keptToken: keptToken(config, current) }),
            ),
          ),
    );
    // Work running here stops now; in a Durable Object, once it is told; elsewhere, at its next heartbeat.
    await worker?.changed(result);
    return ok(input, result);
  };
}

/**
 * Resume: the `resume` callback's update; 501 for a provider without one. With background
 * work, an action resumed to ACTIVE has its work queued again (in the same transaction), and
 * without a callback resume makes it ACTIVE. A session requirement (the provider's, and the one
 * an INACTIVE action waits on) is checked first: unmet, an INACTIVE action stays INACTIVE with
 * the GARE of what is missing, and any other is a 403 with that GARE.
 */
export function resumeOperation(config: ProviderConfig, worker?: WorkerInternals): Operation<ActionInput> {
  const resume = resumer(config, worker);
  return async (input) => {
    const caller = await authenticate(config, input);
    const record = await loadManageable(config, input.actionId, caller);
    if (resume === undefined) throw new ActionError('NotImplemented', 'This provider does not support resume');
    const awaited = record.status === 'INACTIVE' ? awaitedRequirement(record.details) : undefined;
    const unmet = await sessionShortfall(caller, bothRequirements(config.session, awaited));
    if (unmet !== undefined) {
      if (record.status !== 'INACTIVE') throw new AuthorizationRequiredError(unmet);
      const waiting = awaitingLogin(unmet);
      const same = JSON.stringify(waiting.details) === JSON.stringify(record.details);
      return ok(
        input,
        await mutate(config, record, async (current) => (current.status === 'INACTIVE' && !same ? waiting : undefined)),
      );
    }
    return ok(input, await resume(input, caller, record, awaited !== undefined));
  };
}

/**
 * Resume's own step, once the caller is allowed and their session suffices. `answered`: the
 * action waited on a session requirement that is now met, so its GARE details go unless the
 * update brings details of its own (else every later poll would resume it again).
 */
type Resume = (input: ActionInput, caller: Caller, record: ActionRecord, answered: boolean) => Promise<ActionRecord>;

/** The resume step of this provider, or undefined when it cannot resume (no callback, no work). */
function resumer(config: ProviderConfig, worker: WorkerInternals | undefined): Resume | undefined {
  const given =
    config.callbacks.resume ?? (worker === undefined ? undefined : (): ActionUpdate => ({ status: 'ACTIVE' }));
  if (given === undefined) return undefined;
  // Resuming an INACTIVE action (the user consented, say): fresh dependent tokens first, as
  // Flows mints new ones, so the callback never works with those cached before the consent.
  const callback = async (context: ActionContext) => {
    if (context.action.status === 'INACTIVE') await context.caller.renewTokens?.();
    return given(context as never);
  };
  const answering = async (context: ActionContext) => {
    const update: unknown = await callback(context);
    return isPlainObject(update) && update['details'] === undefined ? { ...update, details: {} } : update;
  };
  const write =
    worker === undefined
      ? undefined
      : (next: ActionRecord) => (next.status === 'ACTIVE' ? worker.schedule(next) : config.store.update(next));
  return async (input, caller, record, answered) => {
    let tokens: string | undefined;
    try {
      tokens = await renewOnResume(config, caller, record);
    } catch (error) {
      // Still no consent: the action stays INACTIVE, saying what to consent to (anything else propagates).
      return mutateActive(config, record, async () => inactiveOnRequirement(config, error), write);
    }
    const result = await updateWithConsent(config, {
      input,
      caller,
      record,
      name: 'resume',
      callback: answered ? answering : callback,
      write,
      tokens,
    });
    await dropUnstored(config, record.action_id, tokens, result);
    return result;
  };
}

/**
 * For status: an INACTIVE action waiting on a session requirement, polled by someone who may
 * manage it and whose session now satisfies it (the user logged in again, and Flows polls), is
 * resumed; undefined otherwise (the poll answers as usual). No session is asked for unless the
 * action waits on one.
 */
async function resumedByLogin(
  config: ProviderConfig,
  resume: Resume,
  input: ActionInput,
  caller: Caller,
  record: ActionRecord,
): Promise<ActionRecord | undefined> {
  const awaited = awaitedRequirement(record.details);
  if (awaited === undefined || !(await canManage(record, caller))) return undefined;
  let unmet: unknown;
  try {
    unmet = await sessionShortfall(caller, bothRequirements(config.session, awaited));
  } catch (error) {
    // Globus cannot say now: the poll answers the stored status, and a later one tries again.
    if (isActionError(error) && error.code === 'ServiceUnavailable') return undefined;
    throw error;
  }
  return unmet === undefined ? resume(input, caller, record, true) : undefined;
}

interface CallbackUpdate {
  input: ActionInput;
  caller: Caller;
  record: ActionRecord;
  /** The callback's name, for the error a malformed answer raises. */
  name: string;
  callback: (context: ActionContext) => unknown;
  /** How the new record is written (resume queues work with it). */
  write?: ((next: ActionRecord, current: ActionRecord) => Promise<ActionRecord | undefined>) | undefined;
  /** Renewed tokens (sealed) to store with the update. */
  tokens?: string | undefined;
}

/** The action after `callback`'s update, unless it is completed; a missing consent or login makes it INACTIVE. */
function updateWithConsent(
  config: ProviderConfig,
  { input, caller, record, name, callback, write, tokens }: CallbackUpdate,
) {
  return mutateActive(
    config,
    record,
    async (current) => {
      // Renewed tokens are what the callback reaches: the stored ones may be the refused ones.
      const view = tokens === undefined ? current : { ...current, offline_tokens: tokens };
      const context = callbackContext(input, caller, {
        action: toView(current),
        keptToken: keptToken(config, view),
      });
      const update = await callForUpdate(name, () => callback(context)).catch((error: unknown) =>
        inactiveOnRequirement(config, error),
      );
      return tokens === undefined ? update : { ...update, offline_tokens: tokens };
    },
    write,
  );
}
