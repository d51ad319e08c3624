/**
 * @module operations: each Action Provider Interface operation, from an authenticated request
 * to a Response: authorization, validation, callbacks and the stored lifecycle.
 */
import * as v from 'valibot';
import {
  type ActionStatus,
  type ActionUpdate,
  type ActionView,
  applyUpdate,
  formatTime,
  isCompleted,
  toStatus,
  toView,
} from './actions.ts';
import { bearerToken } from './auth/bearer.ts';
import { isConsentRequired } from './auth/consent.ts';
import type { Caller } from './auth/types.ts';
import { canManage, canMonitor, isAllowed, PUBLIC } from './authorization.ts';
import { canonicalJson } from './canonical-json.ts';
import { addDuration } from './duration.ts';
import { readJson } from './http/body.ts';
import { ActionError } from './http/errors.ts';
import { jsonResponse } from './http/response.ts';
import {
  ACTION_STATUSES,
  ActionRequestSchema,
  type ActionStatusValue,
  ActionUpdateSchema,
  isPlainObject,
  LogPageSchema,
} from './model.ts';
import type { EnumerateRole, ProviderConfig } from './options.ts';
import type { ActionQuery, ActionRecord, StoredRequest } from './store/types.ts';
import { formatIssues } from './validation/issues.ts';

const DEFAULT_RELEASE_AFTER = 'P30D';
const MAX_UPDATE_ATTEMPTS = 5;
const MAX_RUN_ATTEMPTS = 5;
const PENDING_POLL_MS = 25;
const ENUMERATE_PAGE = 1000;
const DEFAULT_LOG_LIMIT = 10;
const MAX_LOG_LIMIT = 1000;
const ROLES: readonly EnumerateRole[] = ['creator_id', 'monitor_by', 'manage_by'];

const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer' };

/** Runs work that may outlive the response (a Worker's `ctx.waitUntil`, or a logged background promise). */
export type WaitUntil = (promise: Promise<unknown>) => void;

export type Operation = (request: Request, actionId: string, waitUntil: WaitUntil) => Promise<Response>;

export interface Operations {
  introspect: Operation;
  run: Operation;
  status: Operation;
  cancel: Operation;
  release: Operation;
  resume: Operation;
  log: Operation;
  enumerate: Operation;
  /** Programmatic access for background jobs and webhooks (no caller, no authorization). */
  actions: ActionsApi;
}

/** Read and change actions from outside a request, with the same validation and completion rules. */
export interface ActionsApi {
  get(actionId: string): Promise<ActionView | undefined>;
  /** Apply an update (status defaults to the current one). Throws ActionNotFound, or TypeError for a malformed update. */
  update(actionId: string, update: Partial<ActionUpdate>): Promise<ActionStatus>;
}

const PartialUpdateSchema = v.partial(ActionUpdateSchema);

export function createOperations(config: ProviderConfig): Operations {
  const { store, callbacks, clock, description } = config;
  const publicDescription = description.visible_to.includes(PUBLIC);
  /** The last timestamp formatted: requests within one millisecond share the text. */
  let lastTime = Number.NaN;
  let lastTimeText = '';
  const timeText = (ms: number): string => {
    if (ms !== lastTime) {
      lastTime = ms;
      lastTimeText = formatTime(ms);
    }
    return lastTimeText;
  };
  /** Runs in progress in this instance, so a concurrent duplicate can wait for the real result. */
  const inflight = new Map<string, Promise<ActionRecord>>();

  async function authenticate(request: Request): Promise<Caller> {
    const token = bearerToken(request.headers.get('authorization'));
    if (token === undefined) {
      throw new ActionError('UnauthorizedRequest', 'Missing or malformed bearer token', {
        headers: UNAUTHORIZED_HEADERS,
      });
    }
    let caller: Caller;
    try {
      // An authenticator answering from its cache may return the Caller itself: no promise to await.
      const answer = config.auth.authenticate({ token, request });
      caller = answer instanceof Promise ? await answer : answer;
    } catch (error) {
      if (error instanceof ActionError && error.code === 'UnauthorizedRequest') {
        throw new ActionError(error.code, error.description, { headers: UNAUTHORIZED_HEADERS });
      }
      throw error;
    }
    if (!caller.scopes.some((scope) => config.acceptedScopes.includes(scope))) {
      throw new ActionError('UnauthorizedRequest', "The token does not grant this provider's scope", {
        headers: UNAUTHORIZED_HEADERS,
      });
    }
    return caller;
  }

  const notFound = (actionId: string) => new ActionError('ActionNotFound', `No action with id ${actionId}`);

  /** The live (unexpired) record, or undefined. */
  async function load(actionId: string): Promise<ActionRecord | undefined> {
    const record = await store.get(actionId);
    return record === undefined || (record.expires_at !== null && record.expires_at <= clock()) ? undefined : record;
  }

  /** The record if the caller may monitor it; otherwise exactly the answer for an unknown id. */
  async function loadVisible(actionId: string, caller: Caller): Promise<ActionRecord> {
    const record = await load(actionId);
    if (record === undefined) throw notFound(actionId);
    // Decisions are booleans unless groups must be fetched: await only a pending one.
    const visible = canMonitor(record, caller);
    if (!(visible === true || (visible !== false && (await visible)))) throw notFound(actionId);
    return record;
  }

  async function loadManageable(actionId: string, caller: Caller): Promise<ActionRecord> {
    const record = await loadVisible(actionId, caller);
    const manages = canManage(record, caller);
    if (!(manages === true || (manages !== false && (await manages)))) {
      throw new ActionError('ForbiddenRequest', `Not allowed to manage action ${actionId}`);
    }
    return record;
  }

  /** Validate what a callback returned; a malformed value is the provider's bug, so a logged 500. */
  function checkUpdate(value: unknown, callback: string): ActionUpdate {
    const result = v.safeParse(ActionUpdateSchema, value);
    if (result.success) return result.output;
    throw new Error(`The ${callback} callback returned an invalid status: ${formatIssues(result.issues, true)}`);
  }

  /**
   * Call a callback that returns an update. A ConsentRequiredError from `run`, `status` or
   * `resume` makes the action INACTIVE with the details Globus clients recognise.
   */
  async function callForUpdate(
    name: 'run' | 'status' | 'cancel' | 'resume',
    invoke: () => unknown,
  ): Promise<ActionUpdate> {
    try {
      return checkUpdate(await invoke(), name);
    } catch (error) {
      if (name === 'cancel' || !isConsentRequired(error)) throw error;
      return {
        status: 'INACTIVE',
        display_status: 'Consent required',
        details: {
          code: 'ConsentRequired',
          description: `The user must consent to ${error.scopes.join(' ')} before this action can continue`,
          required_scope: error.requiredScope(description.globus_auth_scope),
        },
      };
    }
  }

  /**
   * Apply `compute(record)` with the version check, re-reading and recomputing when another
   * writer got there first. `compute` returning undefined leaves the action as it is.
   */
  async function mutate(
    record: ActionRecord,
    compute: (current: ActionRecord) => Promise<ActionUpdate | undefined>,
  ): Promise<ActionRecord> {
    let current = record;
    for (let attempt = 1; ; attempt++) {
      const update = await compute(current);
      if (update === undefined) return current;
      const stored = await store.update(applyUpdate(current, update, clock(), timeText));
      if (stored !== undefined) return stored;
      const latest = await load(current.action_id);
      if (latest === undefined) throw notFound(current.action_id);
      if (attempt >= MAX_UPDATE_ATTEMPTS) {
        throw new ActionError('ActionConflict', `Action ${current.action_id} is being changed concurrently; retry`);
      }
      current = latest;
    }
  }

  const ok = (record: ActionRecord, status = 200) => jsonResponse(toStatus(record), status);

  /**
   * A polled status document, serialised once per record: records are immutable (a change is a
   * new record), so a store that hands back the same object (memory) answers repeated polls
   * without rebuilding it. Weakly held, so it goes with the record; only polled records pay.
   */
  const polled = new WeakMap<ActionRecord, string>();
  const okPolled = (record: ActionRecord) => {
    let text = polled.get(record);
    if (text === undefined) {
      text = JSON.stringify(toStatus(record));
      polled.set(record, text);
    }
    return jsonResponse(text, 200);
  };

  /** An operation on an existing action through an optional callback, skipped once the action is completed. */
  function callbackOperation(
    name: 'status' | 'cancel' | 'resume',
    fallback: ((record: ActionRecord) => ActionUpdate) | undefined,
  ): Operation {
    const callback = callbacks[name];
    const needsManage = name !== 'status';
    return async (request, actionId, waitUntil) => {
      const caller = await authenticate(request);
      const record = needsManage ? await loadManageable(actionId, caller) : await loadVisible(actionId, caller);
      // HEAD asks what GET would answer without changing anything: no callback runs.
      if ((callback === undefined && fallback === undefined) || (name === 'status' && request.method === 'HEAD')) {
        if (name === 'resume') throw new ActionError('NotImplemented', 'This provider does not support resume');
        return name === 'status' ? okPolled(record) : ok(record);
      }
      const result = await mutate(record, async (current) => {
        if (isCompleted(current.status)) return undefined;
        if (callback === undefined) return fallback?.(current);
        return callForUpdate(name, () =>
          callback({
            action: toView(current),
            caller,
            get signal() {
              return request.signal;
            },
            waitUntil,
          }),
        );
      });
      return name === 'status' ? okPolled(result) : ok(result);
    };
  }

  function parseRequest(json: unknown, now: number): StoredRequest {
    if (!isPlainObject(json)) {
      throw new ActionError('RequestValidationError', "Field '$' (category: 'type'): Invalid type: Expected object");
    }
    const parsed = v.safeParse(ActionRequestSchema, json);
    if (!parsed.success) throw new ActionError('RequestValidationError', formatIssues(parsed.issues, config.scrub));
    const envelope = parsed.output;
    const deadline = envelope.deadline ?? null;
    if (deadline !== null) {
      const at = Date.parse(deadline);
      const field = "Field '$.deadline' (category: 'value'): ";
      if (Number.isNaN(at)) throw new ActionError('RequestValidationError', `${field}not a valid date-time`);
      if (at <= now) throw new ActionError('RequestValidationError', `${field}the deadline has already passed`);
      if (at > addDuration(now, description.maximum_deadline)) {
        throw new ActionError(
          'RequestValidationError',
          `${field}beyond this provider's maximum_deadline of ${description.maximum_deadline}`,
        );
      }
    }
    const body = config.input.validate(envelope.body, config.scrub);
    if (!body.ok) throw new ActionError('RequestValidationError', body.message);
    return {
      request_id: envelope.request_id,
      body: body.value as StoredRequest['body'],
      label: envelope.label ?? null,
      monitor_by: envelope.monitor_by ?? null,
      manage_by: envelope.manage_by ?? null,
      allowed_clients: envelope.allowed_clients ?? null,
      deadline,
      release_after: envelope.release_after ?? null,
    };
  }

  // Contexts read `request.signal` only when a callback asks: on Node, making the signal costs
  // an AbortController per request.
  async function startAction(
    record: ActionRecord,
    caller: Caller,
    request: Request,
    waitUntil: WaitUntil,
  ): Promise<ActionRecord> {
    let update: ActionUpdate;
    try {
      update = await callForUpdate('run', () =>
        callbacks.run({
          request: record.request,
          actionId: record.action_id,
          caller,
          get signal() {
            return request.signal;
          },
          waitUntil,
        }),
      );
    } catch (error) {
      // Not acknowledged, so not kept: free the request_id for a retry.
      await store.delete(record.action_id);
      throw error;
    }
    const stored = await store.update(applyUpdate(record, update, clock(), timeText));
    if (stored !== undefined) return stored;
    // The action was updated while run was executing (provider.actions.update from a
    // background job): that write is newer than run's answer, so it stands.
    const latest = await load(record.action_id);
    if (latest === undefined) throw notFound(record.action_id);
    return latest;
  }

  const run: Operation = async (request, _actionId, waitUntil) => {
    const caller = await authenticate(request);
    const runnable = isAllowed(description.runnable_by, caller);
    if (!(runnable === true || (runnable !== false && (await runnable)))) {
      throw new ActionError('ForbiddenRequest', 'Not allowed to run this provider');
    }
    const now = clock();
    const stored = parseRequest(await readJson(request, config.bodyLimit), now);
    const record: ActionRecord = {
      action_id: config.generateId(),
      creator_id: caller.identity,
      request_id: stored.request_id,
      request: stored,
      status: 'ACTIVE',
      label: stored.label,
      monitor_by: stored.monitor_by ?? [caller.identity],
      manage_by: stored.manage_by ?? [caller.identity],
      start_time: timeText(now),
      completion_time: null,
      release_after: stored.release_after ?? DEFAULT_RELEASE_AFTER,
      display_status: 'ACTIVE',
      details: {},
      state: null,
      expires_at: null,
      version: 1,
    };
    for (let attempt = 0; attempt < MAX_RUN_ATTEMPTS; attempt++) {
      const created = await store.create(record);
      if (created.created) {
        const pending = startAction(record, caller, request, waitUntil);
        inflight.set(record.action_id, pending);
        try {
          return ok(await pending, 202);
        } finally {
          inflight.delete(record.action_id);
        }
      }
      const existing = created.record;
      if (existing.expires_at !== null && existing.expires_at <= clock() && attempt === 0) {
        await store.delete(existing.action_id); // expired but not swept yet: its request_id is free
        continue;
      }
      if (canonicalJson(existing.request) !== canonicalJson(stored)) {
        throw new ActionError(
          'ActionConflict',
          `request_id ${stored.request_id} was already used for a different request`,
        );
      }
      const running = inflight.get(existing.action_id);
      if (running !== undefined) return ok(await running);
      const settled = await settledRun(existing);
      if (settled === undefined) continue; // that run failed or was abandoned: this request runs it
      return ok(settled);
    }
    throw new ActionError('ActionConflict', `request_id ${stored.request_id} is being run concurrently; retry`);
  };

  /**
   * Wait for a run another instance is still executing (its placeholder is version 1) to
   * store its answer, so a duplicate is never told something that was not acknowledged.
   * Undefined when the run failed (its placeholder was deleted) or was abandoned: a placeholder
   * older than `runTimeout` belongs to an instance that died mid-run, and is deleted to free
   * its request_id.
   */
  async function settledRun(record: ActionRecord): Promise<ActionRecord | undefined> {
    const waitUntilMs = Date.now() + config.runTimeout;
    let current: ActionRecord | undefined = record;
    while (current !== undefined && current.version === 1) {
      const abandoned = clock() - Date.parse(current.start_time) >= config.runTimeout || Date.now() >= waitUntilMs;
      if (abandoned) {
        await store.delete(current.action_id);
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, PENDING_POLL_MS));
      current = await load(current.action_id);
    }
    return current;
  }

  const introspect: Operation = async (request) => {
    if (publicDescription) return jsonResponse(config.descriptionJson, 200);
    const caller = await authenticate(request);
    const visible = isAllowed(description.visible_to, caller);
    if (!(visible === true || (visible !== false && (await visible))))
      throw new ActionError('ActionNotFound', 'No provider here');
    return jsonResponse(config.descriptionJson, 200);
  };

  const release: Operation = async (request, actionId, waitUntil) => {
    const caller = await authenticate(request);
    const record = await loadManageable(actionId, caller);
    if (!isCompleted(record.status)) {
      throw new ActionError(
        'ActionConflict',
        `Action ${actionId} is ${record.status}; only a completed action can be released`,
      );
    }
    await callbacks.release?.({
      action: toView(record),
      caller,
      get signal() {
        return request.signal;
      },
      waitUntil,
    });
    // A concurrent release got there first: answer as for any id that is gone.
    if (!(await store.delete(actionId))) throw notFound(actionId);
    return ok(record);
  };

  const log: Operation = async (request, actionId, waitUntil) => {
    const caller = await authenticate(request);
    const record = await loadVisible(actionId, caller);
    const callback = callbacks.log;
    if (callback === undefined) throw new ActionError('NotImplemented', 'This provider does not support log');
    const params = new URL(request.url).searchParams;
    const rawLimit = params.get('limit');
    const limit = rawLimit === null ? DEFAULT_LOG_LIMIT : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_LIMIT) {
      throw new ActionError(
        'RequestValidationError',
        `Field 'limit' (category: 'value'): must be an integer from 1 to ${MAX_LOG_LIMIT}`,
      );
    }
    const marker = params.get('marker') ?? params.get('pagination_token');
    const page = v.safeParse(
      LogPageSchema,
      await callback({
        action: toView(record),
        caller,
        get signal() {
          return request.signal;
        },
        waitUntil,
        limit,
        marker,
      }),
    );
    if (!page.success) throw new Error(`The log callback returned an invalid page: ${formatIssues(page.issues, true)}`);
    return jsonResponse(
      {
        entries: page.output.entries,
        has_next_page: page.output.has_next_page ?? false,
        limit,
        marker: page.output.marker ?? null,
      },
      200,
    );
  };

  function parseList<T extends string>(
    raw: string | null,
    allowed: readonly T[],
    fallback: T,
    name: string,
    normalise: (s: string) => string,
  ): T[] {
    if (raw === null || raw.trim() === '') return [fallback];
    const given = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const values = given.map(normalise);
    const bad = given.filter((_s, i) => !(allowed as readonly string[]).includes(values[i] as string));
    if (bad.length > 0) {
      throw new ActionError(
        'RequestValidationError',
        `Field '${name}' (category: 'value'): unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')}; expected ${allowed.join(', ')}`,
      );
    }
    return [...new Set(values)] as T[];
  }

  const enumerate: Operation = async (request, _actionId, waitUntil) => {
    const caller = await authenticate(request);
    const listable = isAllowed(description.runnable_by, caller);
    if (!(listable === true || (listable !== false && (await listable))))
      throw new ActionError('ForbiddenRequest', 'Not allowed to list actions');
    const params = new URL(request.url).searchParams;
    const statuses = parseList<ActionStatusValue>(params.get('status'), ACTION_STATUSES, 'ACTIVE', 'status', (s) =>
      s.toUpperCase(),
    );
    const roles = parseList<EnumerateRole>(params.get('roles'), ROLES, 'creator_id', 'roles', (s) => s.toLowerCase());
    if (callbacks.enumerate !== undefined) {
      const listed = await callbacks.enumerate({
        caller,
        statuses,
        roles,
        get signal() {
          return request.signal;
        },
        waitUntil,
      });
      return jsonResponse(listed, 200);
    }
    const principals = roles.some((r) => r !== 'creator_id') ? [...caller.identities, ...(await caller.groups())] : [];
    const query: ActionQuery = {
      statuses,
      ...(roles.includes('creator_id') ? { creator_id: caller.identities } : {}),
      ...(roles.includes('monitor_by') ? { monitor_by: principals } : {}),
      ...(roles.includes('manage_by') ? { manage_by: principals } : {}),
      limit: ENUMERATE_PAGE,
      now: clock(),
    };
    const found: ActionStatus[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await store.list(cursor === undefined ? query : { ...query, cursor });
      for (const record of page.actions) found.push(toStatus(record));
      if (page.cursor === undefined) break;
      cursor = page.cursor;
    }
    return jsonResponse(found, 200);
  };

  const actions: ActionsApi = {
    async get(actionId) {
      const record = await load(actionId);
      return record === undefined ? undefined : toView(record);
    },
    async update(actionId, patch) {
      const parsed = v.safeParse(PartialUpdateSchema, patch);
      if (!parsed.success) throw new TypeError(`update: ${formatIssues(parsed.issues, false)}`);
      const record = await load(actionId);
      if (record === undefined) throw notFound(actionId);
      const result = await mutate(record, async (current) => ({
        ...parsed.output,
        status: parsed.output.status ?? current.status,
      }));
      return toStatus(result);
    },
  };

  return {
    introspect,
    run,
    status: callbackOperation('status', undefined),
    cancel: callbackOperation('cancel', () => ({
      status: 'FAILED',
      details: { code: 'ActionCanceled', description: 'The action was canceled' },
      display_status: 'Canceled',
    })),
    resume: callbackOperation('resume', undefined),
    release,
    log,
    enumerate,
    actions,
  };
}
