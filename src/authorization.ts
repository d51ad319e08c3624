/**
 * @module authorization: who may see the provider, run, monitor and manage an action.
 * Every linked identity counts; groups are fetched only when an allow-list names a group.
 */
import type { Caller } from './auth/types.ts';
import type { ActionRecord } from './model.ts';

export const PUBLIC = 'public';
export const ALL_AUTHENTICATED_USERS = 'all_authenticated_users';
const GROUP_PREFIX = 'urn:globus:groups:id:';

/** True when one of the caller's identities, or (only if the list names a group) groups, is in `allowed`. */
export async function isAllowed(allowed: readonly string[], caller: Caller): Promise<boolean> {
  if (allowed.length === 0) return false;
  if (allowed.includes(ALL_AUTHENTICATED_USERS) || allowed.includes(PUBLIC)) return true;
  for (const identity of caller.identities) if (allowed.includes(identity)) return true;
  if (!allowed.some((p) => p.startsWith(GROUP_PREFIX))) return false;
  // Only now, when the decision depends on them, are the caller's groups looked up.
  const groups = await caller.groups();
  return groups.some((group) => allowed.includes(group));
}

/** Manage: the creator, or a principal in `manage_by`. */
export async function canManage(record: ActionRecord, caller: Caller): Promise<boolean> {
  return caller.identities.includes(record.creator_id) || isAllowed(record.manage_by, caller);
}

/**
 * Monitor: the creator, a principal in `monitor_by`, or a manager (someone who may cancel or
 * release an action must be able to see it).
 */
export async function canMonitor(record: ActionRecord, caller: Caller): Promise<boolean> {
  return (
    caller.identities.includes(record.creator_id) ||
    (await isAllowed(record.monitor_by, caller)) ||
    isAllowed(record.manage_by, caller)
  );
}
