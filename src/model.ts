/** @module model: valibot schemas of the documents on the wire and of what callbacks return. */
import * as v from 'valibot';
import { ISO8601_DURATION, secondsToDuration } from './duration.ts';

/** The spec's PrincipalURN pattern. */
export const PRINCIPAL_URN =
  /^urn:globus:(auth:identity|groups:id):([a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12})$/;
/** The spec's AllowedClients pattern. */
export const ALLOWED_CLIENT = /^(public|globus|creator|.$)$/;
/** RFC 3339 date-time (what `format: date-time` means), offset required. */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;

export const ACTION_STATUSES = ['SUCCEEDED', 'FAILED', 'ACTIVE', 'INACTIVE'] as const;
export type ActionStatusValue = (typeof ACTION_STATUSES)[number];

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

const principalList = v.optional(
  v.nullable(
    v.pipe(
      v.array(PrincipalUrnSchema),
      v.transform((list) => [...new Set(list)]),
    ),
  ),
);

/**
 * The ActionRequest envelope. Unknown top-level keys (e.g. `tags` from globus-automate-client)
 * are dropped; `null` counts as absent; a numeric `request_id` becomes a string; integer
 * seconds in `release_after` become an ISO 8601 duration.
 */
export const ActionRequestSchema = v.object({
  request_id: v.pipe(
    v.union([v.string(), v.number()], 'Invalid type: Expected string'),
    v.transform(String),
    v.minLength(1, 'Invalid length: Expected a non-empty string'),
  ),
  body: JsonObjectSchema,
  // 64 characters as JSON Schema's maxLength (and Python's len) count them: code points, not UTF-16 units.
  label: v.optional(
    v.nullable(v.pipe(v.string(), v.minLength(1), v.maxCodePoints(64, 'Invalid length: Expected <=64 characters'))),
  ),
  monitor_by: principalList,
  manage_by: principalList,
  allowed_clients: v.optional(
    v.nullable(
      v.array(v.pipe(v.string(), v.regex(ALLOWED_CLIENT, 'Invalid client: Expected public, globus or creator'))),
    ),
  ),
  deadline: v.optional(
    v.nullable(v.pipe(v.string(), v.regex(DATE_TIME, 'Invalid format: Expected an ISO 8601 date-time with offset'))),
  ),
  release_after: v.optional(
    v.nullable(
      v.union(
        [
          v.pipe(v.string(), v.regex(ISO8601_DURATION)),
          v.pipe(v.number(), v.integer(), v.minValue(0), v.transform(secondsToDuration)),
        ],
        'Invalid type: Expected an ISO 8601 duration or integer seconds',
      ),
    ),
  ),
});

export type ActionRequestEnvelope = v.InferOutput<typeof ActionRequestSchema>;

/** What `run`, `status`, `cancel` and `resume` callbacks return. */
export const ActionUpdateSchema = v.object({
  status: v.picklist(ACTION_STATUSES),
  details: v.optional(JsonObjectSchema),
  display_status: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(64)))),
  state: v.optional(v.nullable(JsonObjectSchema)),
});

/** What `log` callbacks return. */
export const LogPageSchema = v.object({
  entries: v.array(JsonObjectSchema),
  has_next_page: v.optional(v.boolean()),
  marker: v.optional(v.nullable(v.string())),
});
