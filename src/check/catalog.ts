/**
 * @module check/catalog: every check `checkProvider` makes, in report order: its id, what it
 * checks and what that rests on (a section of the interface spec in ../shared/spec, a Globus
 * client's behaviour, or an RFC). The report lists each exactly once.
 */

export interface CheckDefinition {
  id: string;
  section: string;
  title: string;
  basis: string;
}

/** The interface spec: actions_spec.openapi.yaml (2024-03-14.1), action_request.yaml, action_status.yaml. */
const SPEC = 'spec';
/** What clients of providers built with globus-action-provider-tools (0.21) see, and so rely on. */
const TOOLKIT = 'Python toolkit';

/** The route families: the legacy routes Flows calls, and `/actions`. */
export type Family = 'legacy' | 'actions';

/** The operations on an existing action, each a route in both families. */
export const ACTION_ROUTES = ['status', 'log', 'cancel', 'resume', 'release'] as const;
export type ActionRoute = (typeof ACTION_ROUTES)[number];

/** Each route's method and path, for an action id already URL-encoded. */
export function routeOf(family: Family, route: ActionRoute, id: string): { method: string; path: string } {
  if (family === 'legacy')
    return { method: route === 'status' || route === 'log' ? 'GET' : 'POST', path: `/${id}/${route}` };
  if (route === 'status') return { method: 'GET', path: `/actions/${id}` };
  if (route === 'release') return { method: 'DELETE', path: `/actions/${id}` };
  return { method: route === 'log' ? 'GET' : 'POST', path: `/actions/${id}/${route}` };
}

/** `GET /{id}/status`, `DELETE /actions/{id}`: a route as the report names it. */
export function routeName(family: Family, route: ActionRoute): string {
  const { method, path } = routeOf(family, route, '{id}');
  return `${method} ${path}`;
}

/** The id of a per-route check: `status`, `actions.status`, `unknown.status`, `isolation.actions.log`. */
export const routeCheck = (prefix: '' | 'unknown' | 'isolation', family: Family, route: ActionRoute): string =>
  [prefix, family === 'actions' ? 'actions' : '', route].filter((part) => part !== '').join('.');

const ROUTE_TITLES: Record<ActionRoute, string> = {
  status: "answers the action's ActionStatus",
  log: 'answers a page of log entries (if log_supported)',
  cancel: 'answers an ActionStatus, or an error saying why not',
  resume: 'answers an ActionStatus, or an error saying why not',
  release: 'answers the final ActionStatus, then 404',
};

const ROUTE_BASES: Record<ActionRoute, string> = {
  status: `${SPEC} GET /{action_id}/status; Flows polls it until the action completes`,
  log: `${TOOLKIT} GET /{action_id}/log; globus-automate-client`,
  cancel: `${SPEC} POST /{action_id}/cancel (200; 400 or 409 when not possible)`,
  resume: `Flows resumes INACTIVE actions; ${TOOLKIT} POST /{action_id}/resume`,
  release: `${SPEC} POST /{action_id}/release; its 404 once released`,
};

function familyChecks(family: Family): CheckDefinition[] {
  const section = family === 'legacy' ? 'Legacy routes (what Flows calls)' : 'The /actions routes';
  const basis = (text: string, legacy: string) =>
    family === 'legacy' ? text : `${TOOLKIT} /actions routes (as ${legacy})`;
  return [
    {
      id: family === 'legacy' ? 'run' : 'actions.run',
      section,
      title: `${family === 'legacy' ? 'POST /run' : 'POST /actions'} starts an action: 202 and an ActionStatus (completed, if synchronous)`,
      basis: basis(
        `${SPEC} POST /run, ProviderDescription.synchronous; Flows fails the step on a non-2xx`,
        'POST /run',
      ),
    },
    ...ACTION_ROUTES.map((route) => ({
      id: routeCheck('', family, route),
      section,
      title: `${routeName(family, route)} ${ROUTE_TITLES[route]}`,
      basis: basis(ROUTE_BASES[route], routeName('legacy', route)),
    })),
  ];
}

function perRoute(
  prefix: 'unknown' | 'isolation',
  section: string,
  title: (family: Family, route: ActionRoute) => string,
  basis: string,
): CheckDefinition[] {
  return (['legacy', 'actions'] as const).flatMap((family) =>
    ACTION_ROUTES.map((route) => ({
      id: routeCheck(prefix, family, route),
      section,
      title: title(family, route),
      basis,
    })),
  );
}

export const CHECKS: readonly CheckDefinition[] = [
  {
    id: 'introspection',
    section: 'Introspection',
    title: 'GET / answers 200 and a description matching the ProviderDescription schema',
    basis: `${SPEC} GET /, ProviderDescription; Flows reads globus_auth_scope from it`,
  },
  {
    id: 'action-status.schema',
    section: 'Introspection',
    title: 'every ActionStatus answered (run, status, cancel, release, lists...) matches its schema',
    basis: `${SPEC} ActionStatus (action_status.yaml); Flows keeps it in the run's state`,
  },
  ...familyChecks('legacy'),
  ...familyChecks('actions'),
  {
    id: 'actions.list',
    section: 'The /actions routes',
    title: "GET /actions answers a JSON array of ActionStatus holding the caller's action",
    basis: `${TOOLKIT} GET /actions (status and roles as comma lists)`,
  },
  {
    id: 'idempotency.same',
    section: 'Idempotent request_id',
    title: 'the same request again answers the same action, not a new one',
    basis: `${SPEC} ActionRequest.request_id, POST /run 200; Flows retries a /run`,
  },
  {
    id: 'idempotency.conflict',
    section: 'Idempotent request_id',
    title: 'the same request_id with a different request answers 409 and a JSON error',
    basis: `${SPEC} ActionRequest.request_id ("same content or ... rejected"); ${TOOLKIT} 409`,
  },
  ...perRoute(
    'unknown',
    'Unknown actions',
    (family, route) => `${routeName(family, route)} of an unknown id answers 404 and a JSON error`,
    `${SPEC} 404 of /{action_id}/...; ${TOOLKIT} error body {code, description}`,
  ),
  {
    id: 'routing.unknown-path',
    section: 'Routing',
    title: 'an unknown path answers 404 and a JSON error, not an HTML page',
    basis: `${TOOLKIT} error body; Flows shows a provider's error body to the user`,
  },
  {
    id: 'routing.method.run',
    section: 'Routing',
    title: 'GET /run answers 405, a JSON error and an Allow header',
    basis: 'RFC 9110 15.5.6 (a 405 carries Allow); Flows shows the error body',
  },
  {
    id: 'routing.method.status',
    section: 'Routing',
    title: 'DELETE /{id}/status answers 405, a JSON error and an Allow header',
    basis: 'RFC 9110 15.5.6 (a 405 carries Allow); Flows shows the error body',
  },
  {
    id: 'routing.method.actions',
    section: 'Routing',
    title: 'PUT /actions/{id} answers 405, a JSON error and an Allow header',
    basis: 'RFC 9110 15.5.6 (a 405 carries Allow); Flows shows the error body',
  },
  {
    id: 'auth.run.missing',
    section: 'Authentication',
    title: 'POST /run without Authorization answers 401 and a JSON error',
    basis: `${SPEC} POST /run 401 ("Authorization header missing or invalid")`,
  },
  {
    id: 'auth.run.invalid',
    section: 'Authentication',
    title: 'POST /run with an invalid token answers 401 and a JSON error',
    basis: `${SPEC} POST /run 401 ("Authorization header missing or invalid")`,
  },
  {
    id: 'auth.status.missing',
    section: 'Authentication',
    title: 'GET /{id}/status of an existing action without Authorization answers 401',
    basis: `${SPEC} GET /{action_id}/status 401`,
  },
  {
    id: 'auth.status.invalid',
    section: 'Authentication',
    title: 'GET /{id}/status of an existing action with an invalid token answers 401',
    basis: `${SPEC} GET /{action_id}/status 401`,
  },
  {
    id: 'envelope.invalid-json',
    section: 'Bad requests',
    title: 'POST /run with a body that is no JSON answers 400 (or 422) and a JSON error',
    basis: `${SPEC} POST /run 400; ${TOOLKIT} 400 BadActionRequest`,
  },
  {
    id: 'envelope.not-object',
    section: 'Bad requests',
    title: 'POST /run with a JSON array answers 400 or 422 and a JSON error',
    basis: `${SPEC} ActionRequest (an object)`,
  },
  {
    id: 'envelope.no-request-id',
    section: 'Bad requests',
    title: 'POST /run without request_id answers 400 or 422 and a JSON error',
    basis: `${SPEC} ActionRequest (required: request_id, body)`,
  },
  {
    id: 'envelope.no-body',
    section: 'Bad requests',
    title: 'POST /run without body answers 400 or 422 and a JSON error',
    basis: `${SPEC} ActionRequest (required: request_id, body)`,
  },
  {
    id: 'envelope.body-not-object',
    section: 'Bad requests',
    title: 'POST /run whose body is a string answers 400 or 422 and a JSON error',
    basis: `${SPEC} ActionRequest.body (an object)`,
  },
  {
    id: 'envelope.principal',
    section: 'Bad requests',
    title: 'POST /run with a malformed principal URN in monitor_by answers 400 or 422, not 500',
    basis: `${SPEC} ActionRequest.monitor_by (PrincipalURN); the ${TOOLKIT} answers 500`,
  },
  {
    id: 'envelope.label',
    section: 'Bad requests',
    title: 'POST /run with a label of 65 characters answers 400 or 422 and a JSON error',
    basis: `${SPEC} ActionRequest.label (1 to 64 characters)`,
  },
  {
    id: 'envelope.release-after',
    section: 'Bad requests',
    title: 'POST /run with a release_after that is no ISO 8601 duration answers 400 or 422',
    basis: `${SPEC} ActionRequest.release_after (ISO8601_duration)`,
  },
  {
    id: 'input.invalid',
    section: 'Bad requests',
    title: 'POST /run with a body its input_schema refuses answers 400 or 422 and a JSON error',
    basis: `${SPEC} POST /run 400 ("not compliant with the input schema")`,
  },
  ...perRoute(
    'isolation',
    'Another identity',
    (family, route) => `${routeName(family, route)} of another identity's action answers as for an unknown id`,
    `${SPEC} monitor_by, manage_by (default: the creator); the ${TOOLKIT}'s 401 tells the action exists`,
  ),
  {
    id: 'isolation.intact',
    section: 'Another identity',
    title: "the actions are unchanged for their creator after the other identity's attempts",
    basis: `${SPEC} ActionRequest.manage_by (default: the creator)`,
  },
  {
    id: 'isolation.list',
    section: 'Another identity',
    title: "GET /actions as another identity does not list the creator's actions",
    basis: `${TOOLKIT} GET /actions (what the caller may monitor)`,
  },
  {
    id: 'gare.shape',
    section: 'Consent and session requirements',
    title: 'every Globus Auth requirement answered (INACTIVE details, a 401/403 body) reads as a GARE',
    basis: 'GARE as globus-sdk, globus-cli and the web app read it; Flows copies required_scope into the run',
  },
  {
    id: 'cors.introspection',
    section: 'CORS',
    title: 'GET / carries Access-Control-Allow-Origin; OPTIONS / allows a GET',
    basis: `Fetch standard (CORS); the Globus web app reads providers from the browser`,
  },
  {
    id: 'cors.run',
    section: 'CORS',
    title: 'OPTIONS /run, without a token, allows a POST with Authorization and Content-Type',
    basis: 'Fetch standard, CORS-preflight fetch ("*" never covers Authorization)',
  },
  {
    id: 'cors.status',
    section: 'CORS',
    title: 'OPTIONS /{id}/status, without a token, allows a GET with Authorization',
    basis: 'Fetch standard, CORS-preflight fetch ("*" never covers Authorization)',
  },
];
