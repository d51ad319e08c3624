/**
 * @module actions: the action lifecycle rules the toolkit owns: the wire ActionStatus, and how
 * a callback's update changes a stored action (completion time, display status, expiry).
 */

import { addDuration } from './duration.ts';
import { ActionError } from './http/errors.ts';
import type { ActionStatusValue, JsonObject } from './model.ts';
import type { ActionRecord, StoredRequest } from './store/types.ts';

/** The ActionStatus document, every standard key present (null when unset). */
export interface ActionStatus {
  action_id: string;
  status: ActionStatusValue;
  creator_id: string;
  label: string | null;
  monitor_by: string[];
  manage_by: string[];
  start_time: string;
  completion_time: string | null;
  release_after: string;
  display_status: string;
  details: JsonObject;
}

/** What callbacks see of an existing action: its status, plus the original request and private state. */
export interface ActionView extends ActionStatus {
  request: StoredRequest;
  state: JsonObject | null;
}

/** What a callback (or `provider.actions.update`) sets on an action. */
export interface ActionUpdate {
  status: ActionStatusValue;
  details?: JsonObject | undefined;
  display_status?: string | null | undefined;
  state?: JsonObject | null | undefined;
}

export function isCompleted(status: ActionStatusValue): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}

/** ISO 8601 with an explicit UTC offset, as Globus services write times. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
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

/**
 * The record after `update`, as version + 1. A completed action keeps its status and
 * completion time: a later update may add details but never reopen it.
 */
export function applyUpdate(
  record: ActionRecord,
  update: ActionUpdate,
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
  return {
    ...record,
    status: update.status,
    details: update.details ?? record.details,
    display_status: displayStatus,
    state: update.state === undefined ? record.state : update.state,
    completion_time: completionTime,
    expires_at: completionTime === null ? null : addDuration(Date.parse(completionTime), record.release_after),
    version: record.version + 1,
  };
}
