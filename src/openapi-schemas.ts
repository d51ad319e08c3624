/**
 * @module openapi-schemas: the schemas of an Action Provider's OpenAPI document: the
 * ActionRequest, ActionStatus and provider description in the wording of the Action Provider
 * Interface (the Python toolkit's published specification), as this toolkit reads and answers
 * them, and its error bodies.
 */
import { ISO8601_DURATION, MAX_RELEASE_AFTER_SECONDS } from './duration.ts';
import { ERROR_STATUS } from './http/errors.ts';
import { type JsonObject, MAX_PRINCIPALS, MAX_REQUEST_ID_LENGTH, PRINCIPAL_URN } from './model.ts';

/** Where a schema of the document is, for `$ref`. */
export const schemaRef = (name: SchemaName): JsonObject => ({ $ref: `#/components/schemas/${name}` });

export type SchemaName =
  | 'ActionInput'
  | 'ActionRequest'
  | 'ActionStatus'
  | 'AuthorizationRequirement'
  | 'Error'
  | 'ISO8601_duration'
  | 'LogPage'
  | 'PrincipalURN'
  | 'ProviderDescription';

const MONITOR_BY =
  'A list of principal URNs containing identities which are allowed to monitor the progress of the action using the /status and /log operations. When not provided, defaults to the user that initiated the action.';
const MANAGE_BY =
  'A list of principal URN containing identities which are allowed to manage the progress of the action using the /cancel and /release operations. When not provided, defaults to the user that initiated the action.';
const principals = (description: string): JsonObject => ({
  type: 'array',
  items: schemaRef('PrincipalURN'),
  maxItems: MAX_PRINCIPALS,
  description,
});
/** `schema` or null: a `type` list where it has one type, else `anyOf` (its description kept on top). */
function nullable({ description, ...schema }: JsonObject): JsonObject {
  const about = description === undefined ? {} : { description };
  if (typeof schema['type'] === 'string') return { ...schema, type: [schema['type'], 'null'], ...about };
  return { anyOf: [schema, { type: 'null' }], ...about };
}

/** The ActionRequest as this toolkit reads it: `null` counts as absent, unknown keys are ignored. */
const ACTION_REQUEST: JsonObject = {
  type: 'object',
  description:
    'A request to start an action: the body of `POST /run` (and of `POST /actions`). A `null` value counts as absent; other top-level keys are ignored.',
  required: ['request_id', 'body'],
  properties: {
    request_id: {
      type: ['string', 'number'],
      maxLength: MAX_REQUEST_ID_LENGTH,
      description:
        'A unique identifier representing the *request* to start an action. Multiple uses of the same request_id must have the same content or they will be rejected. Only one instance of the operation will be executed, so requests with the same request_id may be repeated to attempt to guarantee execution of an action. A number is taken as its decimal text.',
    },
    body: {
      ...schemaRef('ActionInput'),
      description: "The action-provider specific content describing the action to run: this provider's input_schema.",
    },
    label: nullable({
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'A short human presentable description of the Action requested.',
    }),
    monitor_by: nullable(principals(MONITOR_BY)),
    manage_by: nullable(principals(MANAGE_BY)),
    allowed_clients: nullable({
      type: 'array',
      maxItems: MAX_PRINCIPALS,
      items: { type: 'string', pattern: '^(public|globus|creator|.$)$' },
    }),
    deadline: nullable({
      type: 'string',
      format: 'date-time',
      description:
        'A timestamp indicating by which time the action must complete. The request is rejected if it has passed or if it represents a time greater than the maximum_deadline specified in the Provider Description.',
    }),
    release_after: nullable({
      anyOf: [schemaRef('ISO8601_duration'), { type: 'integer', minimum: 0, maximum: MAX_RELEASE_AFTER_SECONDS }],
      description: `An ISO8601 time duration value (or a number of seconds) indicating how long retention of the status of the action be retained after it reaches a completed state: at most one year (P1Y, P366D or ${MAX_RELEASE_AFTER_SECONDS} seconds). Default P30D.`,
    }),
  },
};

/** The ActionStatus as this toolkit answers it: every key present, `null` where there is no value. */
const ACTION_STATUS: JsonObject = {
  type: 'object',
  description: 'The status of an Action which has already been initiated with the /run operation.',
  required: [
    'action_id',
    'status',
    'creator_id',
    'label',
    'monitor_by',
    'manage_by',
    'start_time',
    'completion_time',
    'release_after',
    'display_status',
    'details',
  ],
  properties: {
    action_id: { type: 'string', description: 'The id of the Action itself.' },
    status: {
      type: 'string',
      enum: ['SUCCEEDED', 'FAILED', 'ACTIVE', 'INACTIVE'],
      description: 'The current state of the Action.',
    },
    creator_id: schemaRef('PrincipalURN'),
    label: nullable({
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'A short human presentable description of the Action.',
    }),
    monitor_by: { ...principals(MONITOR_BY), uniqueItems: true },
    manage_by: { ...principals(MANAGE_BY), uniqueItems: true },
    start_time: {
      type: 'string',
      format: 'date-time',
      description:
        'The time in ISO8601 format when the Action started executing (not necessarily the exact same time when the action /run operation was invoked).',
    },
    completion_time: nullable({
      type: 'string',
      format: 'date-time',
      description: 'The time in ISO8601 format when the Action reached a terminal (SUCCEEDED or FAILED) status.',
    }),
    release_after: {
      ...schemaRef('ISO8601_duration'),
      description:
        'An ISO8601 time duration value indicating how long retention of the status of the action be retained after it reaches a completed state.',
    },
    display_status: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description:
        'A short, human consumable string describing the current status of this action. For example, a batch system may use "Queued" or "Running" as display_status when the Action has status "ACTIVE". Similarly, a reason the action is blocked, such as requiring additional authentication may be used when the status is "INACTIVE."',
    },
    details: {
      type: 'object',
      description:
        'A provider-specific object representing the full state of the Action. When the Action is in a SUCCEEDED state, this may be considered the result or return value from the Action. When the Action is in a FAILED state, this represents the cause or reason for failure. While running, the details MAY provide information about the Action in progress such as a measure of its progress to completion. An INACTIVE action waiting for the user to consent or log in again holds a Globus Auth requirements error here (code, description, authorization_parameters).',
    },
  },
};

const PRINCIPAL_OR = (special: string): JsonObject => ({
  anyOf: [schemaRef('PrincipalURN'), { const: special }],
});

/** The introspection document, as `GET /` answers it. */
const PROVIDER_DESCRIPTION: JsonObject = {
  type: 'object',
  description: 'The Action Provider Description: invocation, authorization, administrative and other information.',
  required: [
    'types',
    'api_version',
    'globus_auth_scope',
    'title',
    'visible_to',
    'runnable_by',
    'admin_contact',
    'synchronous',
    'log_supported',
    'maximum_deadline',
    'input_schema',
  ],
  properties: {
    types: { type: 'array', items: { type: 'string', enum: ['ACTION'] }, description: 'The type of provider.' },
    api_version: { type: 'string', enum: ['1.0'] },
    globus_auth_scope: {
      type: 'string',
      description: 'The scope of any bearer token to be used on authenticated accesses to the provider.',
    },
    title: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description: 'A non-unique, human-friendly name used for displaying the provider to end users.',
    },
    subtitle: nullable({
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description: 'A concise summary of the provider’s purpose.',
    }),
    description: nullable({
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      description: 'A detailed description of the provider for end user display.',
    }),
    keywords: nullable({
      type: 'array',
      items: { type: 'string' },
      description:
        'A set of terms used to categorize the provider which may be used in query and discovery operations.',
    }),
    visible_to: {
      type: 'array',
      items: PRINCIPAL_OR('public'),
      description:
        'A set of Principal URN values, or the value "public" indicating the identity of users who can view the provider description via introspection.',
    },
    runnable_by: {
      type: 'array',
      items: PRINCIPAL_OR('all_authenticated_users'),
      description:
        'A set of Principal URN values, or the value "all_authenticated_users" indicating the identity of users who can use the /run operation to initiate an action on the provider.',
    },
    administered_by: nullable({
      type: 'array',
      items: schemaRef('PrincipalURN'),
      description:
        'The set of Principal URN values of users who may perform administrative operations on the provider.',
    }),
    admin_contact: {
      type: 'string',
      description: 'A method of contacting an administrator of the provider, typically an e-mail address.',
    },
    synchronous: {
      type: 'boolean',
      description:
        'True if *all* /run operations on the provider return a completed (SUCCEEDED or FAILED) status in the result of the run operation.',
    },
    log_supported: {
      type: 'boolean',
      description:
        'True if the provider supports the /log operation providing detailed information on the intermediate states of a request.',
    },
    maximum_deadline: {
      ...schemaRef('ISO8601_duration'),
      description: 'The maximum allowed value for deadline of an action, as an ISO 8601 time duration value.',
    },
    input_schema: {
      type: 'object',
      description:
        'A JSON Schema compliant definition of the format of the `body` field of the action request document when requesting a /run operation.',
    },
    event_types: { type: 'null' },
  },
};

const LOG_PAGE: JsonObject = {
  type: 'object',
  description: 'A page of the log of an action.',
  required: ['entries', 'has_next_page', 'limit', 'marker'],
  properties: {
    entries: { type: 'array', items: { type: 'object' }, description: 'Log entries, oldest first.' },
    has_next_page: { type: 'boolean', description: 'True when more entries follow this page.' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'The most entries a page holds.' },
    marker: nullable({ type: 'string', description: 'Pass as `marker` for the next page.' }),
  },
};

const ERROR: JsonObject = {
  type: 'object',
  description: 'What every error answers, with a JSON content type.',
  required: ['code', 'description'],
  properties: {
    code: { type: 'string', enum: Object.keys(ERROR_STATUS), description: 'A stable code naming the error.' },
    description: { type: 'string', description: 'What went wrong, for a person to read.' },
  },
};

const AUTHORIZATION_REQUIREMENT: JsonObject = {
  type: 'object',
  description:
    'A Globus Auth requirements error (GARE): the user must consent to scopes, or log in again with a session that satisfies `authorization_parameters`. Globus clients read it and prompt the user.',
  required: ['code', 'description', 'authorization_parameters'],
  properties: {
    code: { type: 'string', examples: ['ConsentRequired', 'AuthorizationRequired'] },
    description: { type: 'string' },
    required_scope: {
      type: 'string',
      description: 'For a missing consent: the scope to consent to, in the form older clients read.',
    },
    authorization_parameters: {
      type: 'object',
      properties: {
        session_message: { type: 'string' },
        session_required_identities: { type: 'array', items: { type: 'string' } },
        session_required_single_domain: { type: 'array', items: { type: 'string' } },
        session_required_policies: { type: 'array', items: { type: 'string' } },
        session_required_mfa: { type: 'boolean' },
        required_scopes: { type: 'array', items: { type: 'string' } },
        prompt: { const: 'login' },
      },
    },
  },
};

/** Every schema of the document, the provider's input schema as `ActionInput` (already rebased). */
export function componentSchemas(inputSchema: JsonObject): Record<SchemaName, JsonObject> {
  return {
    ActionInput: inputSchema,
    ActionRequest: ACTION_REQUEST,
    ActionStatus: ACTION_STATUS,
    AuthorizationRequirement: AUTHORIZATION_REQUIREMENT,
    Error: ERROR,
    ISO8601_duration: {
      type: 'string',
      pattern: ISO8601_DURATION.source,
      description: 'ISO8601 duration format.',
    },
    LogPage: LOG_PAGE,
    PrincipalURN: {
      type: 'string',
      pattern: PRINCIPAL_URN.source,
      description:
        'A URN representation of an Identity in Globus either of a user from Globus Auth or a group from Globus Groups.',
      examples: ['urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c'],
    },
    ProviderDescription: PROVIDER_DESCRIPTION,
  };
}
