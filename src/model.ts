/**
 * @module model: the documents on the wire and what the toolkit stores: each a valibot schema
 * (what is checked) and an explicit type (what the public API shows). The types are written out
 * rather than inferred so that the published declarations are fast to check (JSR's "no slow
 * types"); test/types.test-d.ts proves each equals what its schema infers, so they cannot drift.
 */
import * as v from 'valibot';
import { ISO8601_DURATION, isDurationAtMost, MAX_RELEASE_AFTER_SECONDS, secondsToDuration } from './duration.ts';

/** The spec's PrincipalURN pattern. */
export const PRINCIPAL_URN =
  /^urn:globus:(auth:identity|groups:id):([a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12})$/;
/** The spec's AllowedClients pattern. */
export const ALLOWED_CLIENT = /^(public|globus|creator|.$)$/;
/** RFC 3339 date-time (what `format: date-time` means), offset required. */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** The longest `request_id` (in characters: code points), which keeps the stores' unique index within its key size. */
export const MAX_REQUEST_ID_LENGTH = 512;
/** The most principals `monitor_by` and `manage_by` may each hold (and items in `allowed_clients`). */
export const MAX_PRINCIPALS = 1000;
const TOO_LONG_RELEASE = `Invalid value: Expected at most one year (P1Y, P366D or ${MAX_RELEASE_AFTER_SECONDS} seconds)`;

/** No C0 or C1 control character (NUL included) and no unpaired surrogate. */
function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++; // a surrogate pair
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** The four states of an action. */
export type ActionStatusValue = 'SUCCEEDED' | 'FAILED' | 'ACTIVE' | 'INACTIVE';
export const ACTION_STATUSES: readonly ['SUCCEEDED', 'FAILED', 'ACTIVE', 'INACTIVE'] = [
  'SUCCEEDED',
  'FAILED',
  'ACTIVE',
  'INACTIVE',
];

export type JsonObject = { [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object (not an array, not null). */
export const JsonObjectSchema = v.custom<JsonObject>(isPlainObject, 'Invalid type: Expected object');

export const PrincipalUrnSchema = v.pipe(
  v.string(),
  v.regex(PRINCIPAL_URN, 'Invalid principal: Expected urn:globus:auth:identity:<uuid> or urn:globus:groups:id:<uuid>'),
);

const tooMany = `Invalid length: Expected <=${MAX_PRINCIPALS} items`;
const principalList = v.nullish(
  v.pipe(
    v.array(PrincipalUrnSchema),
    v.maxLength(MAX_PRINCIPALS, tooMany),
    v.transform((list) => [...new Set(list)]),
  ),
  null,
);

/**
 * The ActionRequest envelope, parsed into the request the toolkit stores (kept for idempotency
 * checks and handed to callbacks). Unknown top-level keys (e.g. `tags` from
 * globus-automate-client) are dropped; `null` counts as absent and every optional field comes
 * out as `null` when absent; a numeric `request_id` becomes a string; integer seconds in
 * `release_after` become an ISO 8601 duration.
 */
export const ActionRequestSchema = v.object({
  request_id: v.pipe(
    v.union([v.string(), v.number()], 'Invalid type: Expected string'),
    v.transform(String),
    v.maxCodePoints(MAX_REQUEST_ID_LENGTH, `Invalid length: Expected <=${MAX_REQUEST_ID_LENGTH} characters`),
    v.check(isPrintable, 'Invalid characters: Expected no control characters or unpaired surrogates'),
  ),
  body: JsonObjectSchema,
  // 64 characters as JSON Schema's maxLength (and Python's len) count them: code points, not UTF-16 units.
  label: v.nullish(
    v.pipe(v.string(), v.minLength(1), v.maxCodePoints(64, 'Invalid length: Expected <=64 characters')),
    null,
  ),
  monitor_by: principalList,
  manage_by: principalList,
  allowed_clients: v.nullish(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(ALLOWED_CLIENT, 'Invalid client: Expected public, globus or creator'))),
      v.maxLength(MAX_PRINCIPALS, tooMany),
    ),
    null,
  ),
  deadline: v.nullish(
    v.pipe(v.string(), v.regex(DATE_TIME, 'Invalid format: Expected an ISO 8601 date-time with offset')),
    null,
  ),
  release_after: v.nullish(
    v.pipe(
      v.union(
        [
          v.pipe(v.string(), v.regex(ISO8601_DURATION)),
          v.pipe(v.number(), v.integer(), v.minValue(0), v.transform(secondsToDuration)),
        ],
        'Invalid type: Expected an ISO 8601 duration or integer seconds',
      ),
      // On the duration either form became, so that seconds and durations share one bound.
      // (Only on a duration: for anything else the union has said what is wrong.)
      v.check((d) => !ISO8601_DURATION.test(d) || isDurationAtMost(d, MAX_RELEASE_AFTER_SECONDS), TOO_LONG_RELEASE),
    ),
    null,
  ),
});

/** The ActionRequest a client sends (before validation: `request_id` may be a number, `release_after` seconds). */
export interface ActionRequestEnvelope {
  request_id: string | number;
  body: JsonObject;
  label?: string | null | undefined;
  monitor_by?: string[] | null | undefined;
  manage_by?: string[] | null | undefined;
  allowed_clients?: string[] | null | undefined;
  deadline?: string | null | undefined;
  release_after?: string | number | null | undefined;
}

/** The validated ActionRequest as stored, with `body` typed by the provider's input schema. */
export interface StoredRequest<TBody = JsonObject> {
  request_id: string;
  body: TBody;
  label: string | null;
  monitor_by: string[] | null;
  manage_by: string[] | null;
  allowed_clients: string[] | null;
  deadline: string | null;
  release_after: string | null;
}

/** The ActionStatus document clients receive, every standard key present (null when unset). */
export const ActionStatusSchema = v.object({
  action_id: v.string(),
  status: v.picklist(ACTION_STATUSES),
  creator_id: v.string(),
  label: v.nullable(v.string()),
  monitor_by: v.array(v.string()),
  manage_by: v.array(v.string()),
  start_time: v.string(),
  completion_time: v.nullable(v.string()),
  release_after: v.string(),
  display_status: v.string(),
  details: JsonObjectSchema,
});

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

/**
 * One action as stored. Records are immutable values: a change is a new record with
 * `version + 1`, written with the store's `update()`.
 */
export interface ActionRecord extends ActionStatus {
  request_id: string;
  request: StoredRequest;
  /** Private to the provider (e.g. a job id to poll); stored, never sent to clients. */
  state: JsonObject | null;
  /** When a completed action is due for deletion (ms since the epoch), else null. */
  expires_at: number | null;
  /**
   * The tokens `keepTokens()` kept, sealed with the provider's `tokenKey` (opaque text); null
   * once the action completed. Never sent to clients, never in a callback's `action`. Absent
   * from records that never kept any (and from those stored before the field existed).
   */
  offline_tokens?: string | null;
  /** 1 while `run` is still executing (the placeholder); every successful update adds one. */
  version: number;
}

/** What callbacks see of an existing action: its status, plus the original request and private state. */
export interface ActionView<TBody = JsonObject> extends ActionStatus {
  request: StoredRequest<TBody>;
  state: JsonObject | null;
}

/** What `run`, `status`, `cancel` and `resume` return (and `provider.actions.update` takes). */
export const ActionUpdateSchema = v.object({
  status: v.picklist(ACTION_STATUSES),
  details: v.optional(JsonObjectSchema),
  display_status: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(64)))),
  state: v.optional(v.nullable(JsonObjectSchema)),
});

export interface ActionUpdate {
  status: ActionStatusValue;
  details?: JsonObject | undefined;
  display_status?: string | null | undefined;
  state?: JsonObject | null | undefined;
}

/** What `log` callbacks return. */
export const LogPageSchema = v.object({
  entries: v.array(JsonObjectSchema),
  has_next_page: v.optional(v.boolean()),
  marker: v.optional(v.nullable(v.string())),
});

export interface LogPage {
  entries: JsonObject[];
  has_next_page?: boolean | undefined;
  marker?: string | null | undefined;
}
