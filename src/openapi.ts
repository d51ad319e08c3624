/**
 * @module openapi: `provider.openapi()`, the OpenAPI 3.1 document of one provider: the routes it
 * serves (both families, only the operations it has), its input schema as the ActionRequest's
 * `body`, the status codes each route answers, and its Globus Auth scope as the security
 * requirement, so that it can be registered with Globus Flows as a Registered API.
 */
import { GLOBUS_ENVIRONMENTS, TOKEN_PATH } from './auth/globus/environments.ts';
import { PUBLIC } from './authorization.ts';
import { isPlainObject, type JsonObject } from './model.ts';
import { componentSchemas, schemaRef } from './openapi-schemas.ts';
import { DEFAULT_ENUMERATE_LIMIT, MAX_ENUMERATE_LIMIT, NEXT_MARKER_HEADER } from './operations/enumerate.ts';
import type { ProviderConfig } from './options.ts';
import { rebaseLocalRefs } from './validation/schema-refs.ts';

export interface OpenApiOptions {
  /**
   * The provider's public base URL, its prefix included (`https://example.org/echo`): the
   * document's `servers`. A path (`/echo`) is relative to where the document is read from.
   * Without it the document has no `servers`; Globus Flows needs one.
   */
  url?: string;
}

/** An OpenAPI 3.1 document: plain JSON data, frozen (it is shared by every call). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: Readonly<JsonObject>;
  readonly servers?: readonly Readonly<JsonObject>[];
  readonly security: readonly Readonly<JsonObject>[];
  readonly tags: readonly Readonly<JsonObject>[];
  readonly paths: Readonly<Record<string, Readonly<JsonObject>>>;
  readonly components: Readonly<JsonObject>;
}

/** The name of the security scheme, as Globus's Registered API documents call it. */
const SCHEME = 'GlobusAuth';
const AUTHORIZE_PATH = '/v2/oauth2/authorize';
const LEGACY = 'legacy';
const ACTIONS = 'actions';

/** What the document depends on: the operations this provider really has. */
interface Features {
  /** Introspection needs no token. */
  public: boolean;
  log: boolean;
  /** A resume callback, or background work (which resumes without one). */
  resume: boolean;
  /** Status may change the action (a status callback, or an INACTIVE action resumed by a poll): 409 on a race. */
  statusWrites: boolean;
  /** The provider checks the caller's session on run and resume. */
  session: boolean;
  security: JsonObject[];
}

const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } });
const answer = (description: string, schema: JsonObject): JsonObject => ({ description, content: json(schema) });
const failure = (description: string): JsonObject => answer(description, schemaRef('Error'));
/** A 403: a refusal, or a Globus Auth requirements error (a consent, or a login, the user must give). */
const forbidden = (description: string): JsonObject =>
  answer(description, { anyOf: [schemaRef('AuthorizationRequirement'), schemaRef('Error')] });
const shared = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

const GARE_403 =
  "The caller's groups cannot be read until the user consents: the body is a Globus Auth requirements error.";

/** The answers every route with a token may give: 401, 503, 500. */
function withCommon(responses: JsonObject, authenticated = true): JsonObject {
  return {
    ...responses,
    ...(authenticated ? { 401: shared('Unauthorized') } : {}),
    ...(authenticated ? { 503: shared('Unavailable') } : {}),
    500: shared('InternalError'),
  };
}

function operation(
  f: Features,
  tag: string,
  operationId: string,
  summary: string,
  description: string,
  responses: JsonObject,
  extra: JsonObject = {},
): JsonObject {
  return {
    tags: [tag],
    operationId,
    summary,
    description,
    security: f.security,
    ...extra,
    responses: withCommon(responses),
  };
}

function introspect(f: Features): JsonObject {
  // No example of the description: its input_schema's own `$ref`s would be read as the document's.
  const responses: JsonObject = {
    200: answer('Details about this Action Provider.', schemaRef('ProviderDescription')),
  };
  if (f.public) {
    return {
      tags: [LEGACY],
      operationId: 'introspect',
      summary: 'Introspect the provider',
      description:
        'Introspect the Action Provider for invocation, authorization, administrative and other information. This provider is visible to the public: no token is needed.',
      security: [],
      responses: withCommon(responses, false),
    };
  }
  return operation(
    f,
    LEGACY,
    'introspect',
    'Introspect the provider',
    'Introspect the Action Provider for invocation, authorization, administrative and other information, for a caller in visible_to.',
    {
      ...responses,
      403: forbidden(GARE_403),
      404: failure(
        'No provider description is visible on the requested URL: the caller is not in the visible_to property of the Provider Description.',
      ),
    },
  );
}

function run(f: Features, tag: string, operationId: string): JsonObject {
  const session = f.session ? ', or must log in again (a Globus Auth requirements error)' : '';
  return operation(
    f,
    tag,
    operationId,
    'Run an action',
    'Trigger an Action execution. Repeating a request with the same request_id and content answers the same action.',
    {
      200: answer(
        'OK: A previous request with the same request_id and body has previously been received and processed.',
        schemaRef('ActionStatus'),
      ),
      202: answer('Action Started.', schemaRef('ActionStatus')),
      400: failure('The request body is not JSON, or could not be read.'),
      403: forbidden(`Not authorized. The requesting user is not in the Action Provider's runnable_by list${session}.`),
      409: failure('The request_id was already used for a different request, or is being run concurrently.'),
      413: failure('The request body is larger than this provider accepts.'),
      422: failure(
        "The body is not a valid ActionRequest, its body does not match this provider's input schema, or its deadline has passed or is beyond maximum_deadline.",
      ),
    },
    {
      requestBody: {
        required: true,
        description: 'The ActionRequest.',
        content: json(schemaRef('ActionRequest')),
      },
    },
  );
}

const ACTION_ID: JsonObject = {
  name: 'action_id',
  in: 'path',
  required: true,
  description: 'The ID of the Action.',
  schema: { type: 'string' },
};

/** An operation on one action: its own answers, and the 404 they all share. */
function onAction(
  f: Features,
  tag: string,
  operationId: string,
  summary: string,
  description: string,
  responses: JsonObject,
  extra?: JsonObject,
): JsonObject {
  return operation(f, tag, operationId, summary, description, { ...responses, 404: shared('ActionNotFound') }, extra);
}

const STATUS_200 = (): JsonObject => answer('Status of the Action.', schemaRef('ActionStatus'));
const CHANGED_409 = 'The action was being changed concurrently; retry.';

function status(f: Features, tag: string, operationId: string): JsonObject {
  return onAction(
    f,
    tag,
    operationId,
    'Get the status of an action',
    'Get the status for a previously executed Action.',
    {
      200: STATUS_200(),
      403: forbidden(GARE_403),
      ...(f.statusWrites ? { 409: failure(CHANGED_409) } : {}),
    },
  );
}

function cancel(f: Features, tag: string, operationId: string): JsonObject {
  return onAction(
    f,
    tag,
    operationId,
    'Cancel an action',
    'Cancel a running Action. A completed action is answered as it is.',
    {
      200: answer(
        'The cancellation request was successfully submitted. The final status is returned in the body.',
        schemaRef('ActionStatus'),
      ),
      403: forbidden("Not authorized. The requesting user is not in the action's manage_by list."),
      409: failure(CHANGED_409),
    },
  );
}

function release(f: Features, tag: string, operationId: string): JsonObject {
  return onAction(
    f,
    tag,
    operationId,
    'Release an action',
    "Remove the action's state from the Action Provider's execution store. Only a completed (SUCCEEDED or FAILED) action can be released.",
    {
      200: answer('Release successful. Final status returned in the body.', schemaRef('ActionStatus')),
      403: forbidden("Not authorized. The requesting user is not in the action's manage_by list."),
      409: failure(
        'The Action is in a state, such as still actively executing, that does not support a release operation.',
      ),
    },
  );
}

function resume(f: Features, tag: string, operationId: string): JsonObject {
  return onAction(
    f,
    tag,
    operationId,
    'Resume an action',
    'Resume an INACTIVE Action, once the user has given what it waits for (a consent, a login).',
    {
      200: answer('The status of the resumed Action.', schemaRef('ActionStatus')),
      403: forbidden(
        "Not authorized. The requesting user is not in the action's manage_by list, or must log in again (a Globus Auth requirements error).",
      ),
      409: failure(CHANGED_409),
    },
  );
}

function log(f: Features, tag: string, operationId: string): JsonObject {
  return onAction(
    f,
    tag,
    operationId,
    "Read an action's log",
    'Detailed information on the intermediate states of an Action, a page at a time.',
    {
      200: answer('A page of the log.', schemaRef('LogPage')),
      403: forbidden(GARE_403),
      422: failure('The limit is not an integer from 1 to 1000.'),
    },
    {
      parameters: [
        {
          name: 'limit',
          in: 'query',
          description: 'The most entries to answer.',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
        },
        { name: 'marker', in: 'query', description: "The previous page's marker.", schema: { type: 'string' } },
        { name: 'pagination_token', in: 'query', description: 'The same as marker.', schema: { type: 'string' } },
      ],
    },
  );
}

function enumerate(f: Features): JsonObject {
  return operation(
    f,
    ACTIONS,
    'listActions',
    'List actions',
    "The caller's actions, by status and by the caller's role in them.",
    {
      200: {
        ...answer('One page of the actions, newest first (by start_time, then action_id).', {
          type: 'array',
          items: schemaRef('ActionStatus'),
        }),
        headers: {
          [NEXT_MARKER_HEADER]: {
            description: "The next page's marker, to pass as marker; absent on the last page.",
            schema: { type: 'string' },
          },
          Link: {
            description:
              'The next page, as <URL>; rel="next" (this request with marker and limit set); absent on the last page.',
            schema: { type: 'string' },
          },
        },
      },
      403: forbidden("Not authorized. The requesting user is not in the Action Provider's runnable_by list."),
      422: failure(
        `A status or role is not one of those listed, the limit is not an integer from 1 to ${MAX_ENUMERATE_LIMIT}, or the marker is not that of a page of this listing.`,
      ),
    },
    {
      parameters: [
        {
          name: 'status',
          in: 'query',
          description:
            'Comma-separated statuses (any case) of the actions to list: SUCCEEDED, FAILED, ACTIVE, INACTIVE.',
          schema: { type: 'string', default: 'ACTIVE', examples: ['ACTIVE,INACTIVE'] },
        },
        {
          name: 'roles',
          in: 'query',
          description:
            'Comma-separated roles of the caller in the actions to list: creator_id (they started it), monitor_by, manage_by.',
          schema: { type: 'string', default: 'creator_id', examples: ['creator_id,manage_by'] },
        },
        {
          name: 'limit',
          in: 'query',
          description: 'The most actions to answer (one page).',
          schema: { type: 'integer', minimum: 1, maximum: MAX_ENUMERATE_LIMIT, default: DEFAULT_ENUMERATE_LIMIT },
        },
        {
          name: 'marker',
          in: 'query',
          description: `The previous page's ${NEXT_MARKER_HEADER}, for the next page (with the same status and roles).`,
          schema: { type: 'string' },
        },
        { name: 'pagination_token', in: 'query', description: 'The same as marker.', schema: { type: 'string' } },
      ],
    },
  );
}

/** Every path this provider serves, as its route table has them (`:id` as `{action_id}`). */
function paths(f: Features): Record<string, JsonObject> {
  const onId = (operations: JsonObject): JsonObject => ({ parameters: [ACTION_ID], ...operations });
  const family = (tag: string, prefix: string, ids: Record<string, string>) => ({
    [`${prefix}/cancel`]: onId({ post: cancel(f, tag, ids['cancel'] as string) }),
    [`${prefix}/release`]: onId({ post: release(f, tag, ids['release'] as string) }),
    ...(f.resume ? { [`${prefix}/resume`]: onId({ post: resume(f, tag, ids['resume'] as string) }) } : {}),
    ...(f.log ? { [`${prefix}/log`]: onId({ get: log(f, tag, ids['log'] as string) }) } : {}),
  });
  return {
    '/': { get: introspect(f) },
    '/run': { post: run(f, LEGACY, 'run') },
    '/{action_id}/status': onId({ get: status(f, LEGACY, 'status') }),
    ...family(LEGACY, '/{action_id}', { cancel: 'cancel', release: 'release', resume: 'resume', log: 'log' }),
    '/actions': { get: enumerate(f), post: run(f, ACTIONS, 'runAction') },
    '/actions/{action_id}': onId({
      get: status(f, ACTIONS, 'getAction'),
      delete: release(f, ACTIONS, 'deleteAction'),
    }),
    ...family(ACTIONS, '/actions/{action_id}', {
      cancel: 'cancelAction',
      release: 'releaseAction',
      resume: 'resumeAction',
      log: 'getActionLog',
    }),
  };
}

function responses(): JsonObject {
  return {
    Unauthorized: {
      ...failure("Authorization header missing or invalid, or the token does not grant this provider's scope."),
      headers: { 'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } } },
    },
    Unavailable: {
      ...failure('A service the provider depends on (Globus Auth, its store) is unavailable; try again later.'),
      headers: { 'Retry-After': { description: 'Seconds to wait, when known.', schema: { type: 'integer' } } },
    },
    InternalError: failure('The provider failed; the cause is logged, not answered.'),
    ActionNotFound: failure(
      'No action with the provided action_id is known, or the caller may not see it. It may never have been executed, or it may have been previously released via the /release operation or after the release timeout occurred.',
    ),
  };
}

/** A contact for `admin_contact`: an e-mail address, a URL, or else a name. */
function contact(adminContact: string): JsonObject {
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminContact)) return { email: adminContact };
  if (/^https?:\/\/\S+$/.test(adminContact)) return { url: adminContact };
  return { name: adminContact };
}

/** Freeze a JSON value and everything in it: the document is shared by every caller. */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else if (isPlainObject(value)) for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}

/**
 * The document of the provider `config` describes, without `servers` (see `withServer`),
 * frozen. Built once per provider (createActionProvider keeps it), from its description and
 * callbacks; its Globus Auth is the authenticator's (`authUrl`), production when it names none.
 */
export function openApiDocument(config: ProviderConfig): OpenApiDocument {
  const d = config.description;
  const scope = d.globus_auth_scope;
  const authUrl = (config.auth.authUrl ?? GLOBUS_ENVIRONMENTS.production.auth).replace(/\/+$/, '');
  const resume = config.callbacks.resume !== undefined || config.work !== undefined;
  const security = [{ [SCHEME]: [scope] }];
  const features: Features = {
    public: d.visible_to.includes(PUBLIC),
    log: config.callbacks.log !== undefined,
    resume,
    statusWrites: config.callbacks.status !== undefined || resume,
    session: config.session !== undefined,
    security,
  };
  const scopes = { [scope]: 'Authorization to perform operations at the action provider' };
  const input = rebaseLocalRefs(d.input_schema, '#/components/schemas/ActionInput');
  return deepFreeze({
    openapi: '3.1.0',
    info: {
      title: d.title,
      ...(d.subtitle === null ? {} : { summary: d.subtitle }),
      description: d.description ?? d.subtitle ?? `The Globus Action Provider ${d.title}.`,
      version: d.api_version,
      contact: contact(d.admin_contact),
    },
    security,
    tags: [
      {
        name: LEGACY,
        description: 'The Action Provider Interface routes: /run and /{action_id}/status, cancel, release, ...',
      },
      { name: ACTIONS, description: 'The same operations under /actions.' },
    ],
    paths: paths(features),
    components: {
      schemas: componentSchemas(input),
      responses: responses(),
      securitySchemes: {
        [SCHEME]: {
          type: 'oauth2',
          description: `Globus Auth access tokens granting ${scope}.`,
          flows: {
            authorizationCode: {
              authorizationUrl: authUrl + AUTHORIZE_PATH,
              tokenUrl: authUrl + TOKEN_PATH,
              refreshUrl: authUrl + TOKEN_PATH,
              scopes,
            },
            clientCredentials: { tokenUrl: authUrl + TOKEN_PATH, scopes },
          },
        },
      },
    },
  } satisfies OpenApiDocument);
}

/** `document` with `servers` for `options.url`; the document itself without one. Throws a TypeError for a bad url. */
export function withServer(document: OpenApiDocument, options: OpenApiOptions | undefined): OpenApiDocument {
  if (options === undefined) return document;
  if (!isPlainObject(options)) throw new TypeError('openapi: options must be an object');
  const { url } = options;
  if (url === undefined) return document;
  const { openapi, info, ...rest } = document;
  // Only what is new is frozen here: the rest is the document's, frozen already (walking it again cost ~200 µs).
  const servers = Object.freeze([Object.freeze({ url: serverUrl(url) })]);
  return Object.freeze({ openapi, info, servers, ...rest });
}

/** A base URL for `servers`: absolute http(s), or a path; no query or fragment; no trailing slash (paths start with one). */
function serverUrl(url: unknown): string {
  const bad = new TypeError(
    'openapi: url must be an absolute http(s) URL or a path starting with /, without query or fragment',
  );
  if (typeof url !== 'string') throw bad;
  if (url.startsWith('/')) {
    if (url.startsWith('//') || /[?#\s]/.test(url)) throw bad;
    return url.replace(/\/+$/, '') || '/';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad;
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.search !== '' || parsed.hash !== '')
    throw bad;
  if (url.includes('?') || url.includes('#')) throw bad;
  return parsed.href.replace(/\/+$/, '');
}
