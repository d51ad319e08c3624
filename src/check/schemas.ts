/**
 * @module check/schemas: the documents a provider answers, as JSON Schemas taken from the
 * interface spec (../shared/spec: ActionStatus, ProviderDescription) and the error body every
 * Globus client reads, checked with @cfworker/json-schema (no code generation: it runs on every
 * runtime). Two deliberate readings of the spec, both what the Python toolkit and Globus's own
 * providers send and Flows accepts: an optional key may be `null` (unset), and `types` may be
 * written `ACTION`.
 */
import { type OutputUnit, type Schema, Validator } from '@cfworker/json-schema';
import { pathSegment } from '../validation/issues.ts';

const PRINCIPAL_URN =
  '^urn:globus:(auth:identity|groups:id):[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$';
// The spec's own two patterns below lack the group round their alternatives (`^(urn...)|public$`
// accepts any string ending in "public"); these mean what their descriptions say.
const PRINCIPAL_OR_PUBLIC = `^(${PRINCIPAL_URN.slice(1, -1)}|public)$`;
const PRINCIPAL_OR_ALL = `^(${PRINCIPAL_URN.slice(1, -1)}|all_authenticated_users)$`;
/** The spec's ISO8601_duration pattern. */
const ISO8601_DURATION =
  '^P(?!$)(\\d+(?:\\.\\d+)?Y)?(\\d+(?:\\.\\d+)?M)?(\\d+(?:\\.\\d+)?W)?(\\d+(?:\\.\\d+)?D)?(T(?=\\d)(\\d+(?:\\.\\d+)?H)?(\\d+(?:\\.\\d+)?M)?(\\d+(?:\\.\\d+)?S)?)?$';

const principals = (pattern: string) => ({
  type: ['array', 'null'],
  items: { type: 'string', pattern },
  uniqueItems: true,
});
const optionalText = (min: number, max: number) => ({ type: ['string', 'null'], minLength: min, maxLength: max });

/** components.schemas.ActionStatus. */
export const ACTION_STATUS_SCHEMA = {
  type: 'object',
  required: ['action_id', 'status', 'details', 'creator_id'],
  properties: {
    action_id: { type: 'string' },
    status: { enum: ['SUCCEEDED', 'FAILED', 'ACTIVE', 'INACTIVE'] },
    creator_id: { type: 'string', pattern: PRINCIPAL_URN },
    label: optionalText(1, 64),
    monitor_by: principals(PRINCIPAL_URN),
    manage_by: principals(PRINCIPAL_URN),
    start_time: { type: ['string', 'null'], format: 'date-time' },
    completion_time: { type: ['string', 'null'], format: 'date-time' },
    release_after: { type: ['string', 'null'], pattern: ISO8601_DURATION },
    display_status: optionalText(1, 64),
    details: { type: 'object' },
  },
} as const;

/** components.schemas.ProviderDescription. */
export const PROVIDER_DESCRIPTION_SCHEMA = {
  type: 'object',
  required: [
    'types',
    'api_version',
    'title',
    'synchronous',
    'log_supported',
    'runnable_by',
    'globus_auth_scope',
    'admin_contact',
  ],
  properties: {
    types: { type: 'array', minItems: 1, items: { enum: ['Action', 'Event', 'ACTION', 'EVENT'] } },
    api_version: { enum: ['1.0'] },
    globus_auth_scope: { type: 'string', format: 'uri' },
    title: { type: 'string', minLength: 1, maxLength: 128 },
    subtitle: optionalText(1, 128),
    description: optionalText(1, 4096),
    keywords: { type: ['array', 'null'], items: { type: 'string' } },
    visible_to: principals(PRINCIPAL_OR_PUBLIC),
    runnable_by: { type: 'array', items: { type: 'string', pattern: PRINCIPAL_OR_ALL }, uniqueItems: true },
    administered_by: principals(PRINCIPAL_URN),
    admin_contact: { type: 'string' },
    synchronous: { type: 'boolean' },
    log_supported: { type: 'boolean' },
    maximum_deadline: { type: ['string', 'null'] },
    input_schema: { type: ['object', 'null'] },
    event_types: {
      type: ['array', 'null'],
      items: { enum: ['STARTED', 'STATUS_UPDATE', 'LOG_UPDATE', 'COMPLETED', 'FAILED'] },
    },
  },
} as const;

/** The error body: what globus-sdk, the web app and Flows show of a failed request. */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  required: ['code', 'description'],
  properties: { code: { type: 'string', minLength: 1 }, description: { type: 'string' } },
} as const;

/** A page of an action's log, as the Python toolkit answers it (clients read `entries`). */
export const LOG_PAGE_SCHEMA = {
  type: 'object',
  required: ['entries'],
  properties: { entries: { type: 'array' }, has_next_page: { type: ['boolean', 'null'] } },
} as const;

/** Keywords whose error only wraps those of their subschemas. */
const WRAPPERS = new Set(['properties', 'items', 'allOf', 'anyOf', '$ref']);

/** A schema's problems with a value, each `$.path: message`; empty when it is valid. */
export type SchemaCheck = (value: unknown) => string[];

/** A check for `schema`, listing every problem (not just the first). */
export function schemaCheck(schema: object): SchemaCheck {
  const validator = new Validator(schema as Schema, '2020-12', false);
  return (value) => {
    if (value === undefined) return ['$: no JSON value'];
    const { valid, errors } = validator.validate(value);
    if (valid) return [];
    return [...new Set(errors.filter((error) => !WRAPPERS.has(error.keyword)).map(problem))];
  };
}

function problem(error: OutputUnit): string {
  let path = '$';
  for (const raw of error.instanceLocation.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    path += pathSegment(/^\d+$/.test(segment) ? Number(segment) : segment);
  }
  return `${path}: ${error.error.replace(/\.$/, '')}`;
}
