/**
 * @module lifecycle: the action lifecycle rules the toolkit owns: a new action's first record,
 * and how an update changes a stored action (completion time, display status, expiry). A
 * completed action is final.
 */
import type { Caller } from './auth/types.ts';
import { addDuration, isFiniteDuration, MAX_RELEASE_AFTER_SECONDS } from './duration.ts';
import { ActionError } from './http/errors.ts';
import type {
  ActionRecord,
  ActionStatus,
  ActionStatusValue,
  ActionUpdate,
  ActionView,
  StoredRequest,
} from './model.ts';

/**
 * An update as the toolkit applies it: a callback's, or one carrying a new sealed token set (a
 * refresh, a renewal on resume). Callbacks cannot set `offline_tokens`: their answers are parsed
 * with ActionUpdateSchema, which has no such key.
 */
export interface RecordUpdate extends ActionUpdate {
  /** The new sealed token set, or null to drop it; a completion drops it whatever this says. */
  offline_tokens?: string | null | undefined;
}

/** How long a completed action is kept when the request names no `release_after`. */
export const DEFAULT_RELEASE_AFTER = 'P30D';

export function isCompleted(status: ActionStatusValue): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}

/** ISO 8601 with an explicit UTC offset, as Globus services write times. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** `formatTime` remembering its last answer: requests within one millisecond share the text. */
export function timeFormatter(): (ms: number) => string {
  let last = Number.NaN;
  let text = '';
  return (ms) => {
    if (ms !== last) {
      last = ms;
      text = formatTime(ms);
    }
    return text;
  };
}

export function toStatus(record: ActionRecord): ActionStatus {
  return {
    action_id: record.action_id,
    status: record.status,
    creator_id: record.creator_id,
    label: record.label,
    monitor_by: record.monitor_by,
    manage_by: record.manage_by,
    start_time: record.start_time,
    completion_time: record.completion_time,
    release_after: record.release_after,
    display_status: record.display_status,
    details: record.details,
  };
}

export function toView(record: ActionRecord): ActionView {
  return { ...toStatus(record), request: record.request, state: record.state };
}

export interface NewRecord {
  actionId: string;
  caller: Caller;
  request: StoredRequest;
  /** `start_time`, already formatted. */
  startTime: string;
}

/** The placeholder a run stores before its callback runs (version 1): ACTIVE, owned by the caller. */
export function newRecord({ actionId, caller, request, startTime }: NewRecord): ActionRecord {
  return {
    action_id: actionId,
    creator_id: caller.identity,
    request_id: request.request_id,
    request,
    status: 'ACTIVE',
    label: request.label,
    monitor_by: request.monitor_by ?? [caller.identity],
    manage_by: request.manage_by ?? [caller.identity],
    start_time: startTime,
    completion_time: null,
    release_after: request.release_after ?? DEFAULT_RELEASE_AFTER,
    display_status: 'ACTIVE',
    details: {},
    state: null,
    expires_at: null,
    version: 1,
  };
}

/**
 * When an action completed at `completed` is due for deletion. A `release_after` that cannot be
 * added to a date (only a record stored before the envelope bounded it) expires after the longest
 * one accepted, so no later update of an acknowledged action can fail on it.
 */
function expiry(completed: number, releaseAfter: string): number {
  const end = isFiniteDuration(releaseAfter) ? addDuration(completed, releaseAfter) : Number.NaN;
  return Number.isFinite(end) ? end : completed + MAX_RELEASE_AFTER_SECONDS * 1000;
}

/**
 * The record after `update`, as version + 1. A completed action keeps its status and
 * completion time: a later update may add details but never reopen it. Completing drops the
 * kept tokens (the caller revokes them once the write is stored).
 */
export function applyUpdate(
  record: ActionRecord,
  update: RecordUpdate,
  now: number,
  format: (ms: number) => string = formatTime,
): ActionRecord {
  if (isCompleted(record.status) && update.status !== record.status) {
    throw new ActionError('ActionConflict', `Action ${record.action_id} is already ${record.status}`);
  }
  const completed = isCompleted(update.status);
  const completionTime = record.completion_time ?? (completed ? format(now) : null);
  const displayStatus =
    update.display_status ?? (update.status === record.status ? record.display_status : update.status);
  const next: ActionRecord = {
    ...record,
    status: update.status,
    details: update.details ?? record.details,
    display_status: displayStatus,
    state: update.state === undefined ? record.state : update.state,
    completion_time: completionTime,
    expires_at: completionTime === null ? null : expiry(Date.parse(completionTime), record.release_after),
    version: record.version + 1,
  };
  // Only records that keep tokens get the field: every other record stays as it was.
  const tokens = update.offline_tokens;
  if (tokens !== undefined || (record.offline_tokens ?? null) !== null) {
    next.offline_tokens = completed ? null : tokens === undefined ? (record.offline_tokens ?? null) : tokens;
  }
  return next;
}
