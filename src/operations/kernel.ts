/**
 * @module operations/kernel: the steps every operation shares: authenticate the caller, load an
 * action the caller may see or manage, change it with the version check, call a callback for an
 * update (mapping a missing consent), and answer with its status.
 */
import * as v from 'valibot';
import { bearerToken } from '../auth/bearer.ts';
import { isConsentRequired } from '../auth/consent.ts';
import {
  type AuthorizationParameters,
  AuthorizationRequiredError,
  authorizationRequirement,
  consentRequirement,
  isAuthorizationRequired,
} from '../auth/gare.ts';
import type { Caller } from '../auth/types.ts';
import { canManage, canMonitor } from '../authorization.ts';
import type { ContextSource } from '../context.ts';
import { ActionError } from '../http/errors.ts';
import { jsonResponse, jsonResponseWith } from '../http/response.ts';
import { applyUpdate, isCompleted, type RecordUpdate, toStatus } from '../lifecycle.ts';
import { type ActionRecord, type ActionUpdate, ActionUpdateSchema } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import type { WorkerInternals } from '../work/runner.ts';

/** What a route hands an operation: the request and the runtime's `waitUntil`. */
export type OperationInput = ContextSource;

/** What a route hands an operation on one action: also the `{id}` of its path. */
export interface ActionInput extends OperationInput {
  readonly actionId: string;
}

export type Operation<I extends OperationInput = OperationInput> = (input: I) => Promise<Response>;

const MAX_UPDATE_ATTEMPTS = 5;
const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer' };

/** The caller of the request, holding one of the provider's scopes; 401 otherwise. */
export async function authenticate(config: ProviderConfig, input: OperationInput): Promise<Caller> {
  const { request, scope: requestScope } = input;
  const token = bearerToken(request.headers.get('authorization'));
  if (token === undefined) {
    throw new ActionError('UnauthorizedRequest', 'Missing or malformed bearer token', {
      headers: UNAUTHORIZED_HEADERS,
    });
  }
  let caller: Caller;
  try {
    caller = await config.auth.authenticate({ token, request });
  } catch (error) {
    if (error instanceof ActionError && error.code === 'UnauthorizedRequest') {
      throw new ActionError(error.code, error.description, { headers: UNAUTHORIZED_HEADERS, cause: error.cause });
    }
    throw error;
  }
  // The request's log line and hooks name the caller from here on (a 401 for a missing scope too).
  if (requestScope !== undefined) requestScope.identity = caller.identity;
  if (!caller.scopes.some((scope) => config.acceptedScopes.includes(scope))) {
    throw new ActionError('UnauthorizedRequest', "The token does not grant this provider's scope", {
      headers: UNAUTHORIZED_HEADERS,
    });
  }
  return caller;
}

export const notFound = (actionId: string): ActionError =>
  new ActionError('ActionNotFound', `No action with id ${actionId}`);

/** The live (unexpired) record, or undefined. */
export async function load(config: ProviderConfig, actionId: string): Promise<ActionRecord | undefined> {
  const record = await config.store.get(actionId);
  return record === undefined || (record.expires_at !== null && record.expires_at <= config.clock())
    ? undefined
    : record;
}

/** The record if the caller may monitor it; otherwise exactly the answer for an unknown id. */
export async function loadVisible(config: ProviderConfig, actionId: string, caller: Caller): Promise<ActionRecord> {
  const record = await load(config, actionId);
  if (record === undefined || !(await canMonitor(record, caller))) throw notFound(actionId);
  return record;
}

/** The record if the caller may manage it; 403 for one they may only monitor. */
export async function loadManageable(config: ProviderConfig, actionId: string, caller: Caller): Promise<ActionRecord> {
  const record = await loadVisible(config, actionId, caller);
  if (!(await canManage(record, caller))) {
    throw new ActionError('ForbiddenRequest', `Not allowed to manage action ${actionId}`);
  }
  return record;
}

/**
 * Apply `compute(record)` with the version check, re-reading and recomputing when another
 * writer got there first. `compute` returning undefined leaves the action as it is. Kept tokens
 * the write dropped or replaced (a completion, a renewal) are revoked before it resolves.
 */
export async function mutate(
  config: ProviderConfig,
  record: ActionRecord,
  compute: (current: ActionRecord) => Promise<RecordUpdate | undefined>,
  write: (next: ActionRecord, current: ActionRecord) => Promise<ActionRecord | undefined> = (next) =>
    config.store.update(next),
): Promise<ActionRecord> {
  let current = record;
  for (let attempt = 1; ; attempt++) {
    const update = await compute(current);
    if (update === undefined) return current;
    const stored = await write(applyUpdate(current, update, config.clock(), config.formatTime), current);
    if (stored !== undefined) {
      const before = current.offline_tokens;
      if (before != null && stored.offline_tokens !== before) {
        await config.tokens?.discard(current.action_id, before, stored.offline_tokens);
      }
      return stored;
    }
    const latest = await load(config, current.action_id);
    if (latest === undefined) throw notFound(current.action_id);
    if (attempt >= MAX_UPDATE_ATTEMPTS) {
      throw new ActionError('ActionConflict', `Action ${current.action_id} is being changed concurrently; retry`);
    }
    current = latest;
  }
}

/** How `mutate` writes a record: the store's versioned update, or that with work queued. */
export type RecordWrite = (next: ActionRecord, current: ActionRecord) => Promise<ActionRecord | undefined>;

/**
 * The write for changes from outside `run`: an action made ACTIVE again (from INACTIVE, by a
 * status callback, a webhook, a person) has its work queued in the same transaction.
 */
export function reactivating(config: ProviderConfig, worker: WorkerInternals | undefined): RecordWrite | undefined {
  if (worker === undefined) return undefined;
  return (next, current) =>
    next.status === 'ACTIVE' && current.status !== 'ACTIVE' ? worker.schedule(next) : config.store.update(next);
}

/** `mutate` for a callback on an existing action: a completed action is final, so nothing is called. */
export function mutateActive(
  config: ProviderConfig,
  record: ActionRecord,
  compute: (current: ActionRecord) => Promise<RecordUpdate>,
  write?: (next: ActionRecord, current: ActionRecord) => Promise<ActionRecord | undefined>,
): Promise<ActionRecord> {
  return mutate(config, record, async (current) => (isCompleted(current.status) ? undefined : compute(current)), write);
}

/** What a callback returned, validated; a malformed value is the provider's bug, so a logged 500. */
export async function callForUpdate(callback: string, invoke: () => unknown): Promise<ActionUpdate> {
  const result = v.safeParse(ActionUpdateSchema, await invoke());
  if (result.success) return result.output;
  throw new Error(`The ${callback} callback returned an invalid status: ${formatIssues(result.issues, true)}`);
}

/**
 * For `run`, `status` and `resume`: a ConsentRequiredError makes the action INACTIVE with the
 * details Globus clients recognise, so the user can consent and resume. Anything else is rethrown.
 */
export function inactiveOnConsent(config: ProviderConfig, error: unknown): ActionUpdate {
  if (!isConsentRequired(error)) throw error;
  return {
    status: 'INACTIVE',
    display_status: 'Consent required',
    details: consentRequirement(config.description.globus_auth_scope, error),
  };
}

/**
 * For a callback on an existing action, and for `work`: a ConsentRequiredError as above, and an
 * AuthorizationRequiredError (a session requirement unmet) makes the action INACTIVE with that
 * GARE in its details, until a caller whose session satisfies it resumes it (or polls it, as
 * Flows does for a requirement other than consent).
 */
export function inactiveOnRequirement(config: ProviderConfig, error: unknown): ActionUpdate {
  if (!isAuthorizationRequired(error)) return inactiveOnConsent(config, error);
  return { status: 'INACTIVE', display_status: LOGIN_REQUIRED, details: authorizationRequirement(error) };
}

const LOGIN_REQUIRED = 'Login required';

/** The INACTIVE update of an action waiting for a session that satisfies `unmet`. */
export const awaitingLogin = (unmet: AuthorizationParameters): ActionUpdate => ({
  status: 'INACTIVE',
  display_status: LOGIN_REQUIRED,
  details: authorizationRequirement(new AuthorizationRequiredError(unmet)),
});

/**
 * A JSON answer to the request of `input`, its id among the headers when it came through a
 * route (built in, rather than set afterwards: see jsonResponseWith).
 */
export function reply(
  input: OperationInput,
  body: unknown,
  status: number,
  extra?: Readonly<Record<string, string>>,
): Response {
  const { scope } = input;
  return scope === undefined ? jsonResponse(body, status, extra) : jsonResponseWith(body, status, scope.headers(extra));
}

/** The action's status document as the answer. */
export const ok = (input: OperationInput, record: ActionRecord, status = 200): Response =>
  reply(input, toStatus(record), status);
