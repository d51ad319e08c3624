/**
 * @module auth/globus/client: the calls to Globus (token introspection, the dependent token
 * grant, online or offline, the refresh token grant, revocation, my_groups) as plain functions of
 * `{ fetch, url, credentials, deadline }`, and how their answers map to errors. Nothing here
 * keeps state: caching is the authenticator's business.
 *
 * It calls Globus with `fetch` directly instead of the official `@globus/sdk`: that package
 * pulls in the cross-fetch polyfill, keeps its configuration in module-level state and reads
 * `process.env` (absent on Cloudflare Workers), none of which fits a library that must run
 * unchanged on Node, Bun, Deno and Workers. The calls are plain form POSTs and GETs.
 */
import { ActionError } from '../../http/errors.ts';
import { isPlainObject, type JsonObject } from '../../model.ts';
import type { AuthTelemetry } from '../../observe/telemetry.ts';
import { groupUrn, identityUrn } from '../caller.ts';
import { ConsentRequiredError } from '../consent.ts';
import type { Session, SessionAuthentication } from '../session.ts';
import type { OfflineToken } from '../types.ts';
import {
  DEPENDENT_CONSENT_REQUIRED,
  DEPENDENT_TOKEN_GRANT,
  INTROSPECT_PATH,
  MY_GROUPS_PATH,
  REVOKE_PATH,
  TOKEN_PATH,
} from './environments.ts';

/** The parts of an introspection answer the toolkit uses (what the cache holds, never the token). */
export interface Introspection {
  active: boolean;
  scope?: string;
  sub?: string;
  identity_set?: string[];
  /** With `include=session_info`: the session, its logins' usernames and the policies evaluated. */
  session?: Session;
}

/** What an introspection asks for beyond the linked identities. */
export interface IntrospectionScope {
  /** `include=session_info,identity_set_detail` (the usernames say which domain a login is from). */
  session: boolean;
  /** `authentication_policies`, evaluated against the session. */
  policies: readonly string[];
}

export interface DependentToken {
  access_token: string;
  resource_server: string;
  scopes: string[];
  /** ms since the epoch. */
  expires_at: number;
}

/** Seconds a token lives when an answer omits `expires_in` (Globus always sends it). */
const DEFAULT_EXPIRES_IN = 3600;

/** The `Authorization` header value of the provider's own Globus Auth client (HTTP Basic). */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
}

/** What one call to Globus needs; the same shape for the three calls. */
export interface GlobusCall {
  fetch: typeof fetch;
  /** The service's base URL (Auth or Groups), without a trailing slash. */
  url: string;
  /** The `Authorization` header: `basicCredentials(...)` for Auth, `Bearer <dependent Groups token>` for Groups. */
  credentials: string;
  /** When to give up, in `Date.now()` ms; the retry shares this budget. */
  deadline: number;
  /** Where the call is reported (a span, a duration, a failure), when the provider has telemetry. */
  telemetry?: AuthTelemetry | undefined;
}

interface Reply {
  status: number;
  body: unknown;
}

/** One of the three calls: which service answers it, where, and how the logs name it. */
interface Endpoint {
  service: 'Globus Auth' | 'Globus Groups';
  path: string;
  what: string;
}

const INTROSPECTION: Endpoint = { service: 'Globus Auth', path: INTROSPECT_PATH, what: 'token introspection' };
const DEPENDENT_GRANT: Endpoint = { service: 'Globus Auth', path: TOKEN_PATH, what: 'dependent token grant' };
const REFRESH_GRANT: Endpoint = { service: 'Globus Auth', path: TOKEN_PATH, what: 'refresh token grant' };
const REVOCATION: Endpoint = { service: 'Globus Auth', path: REVOKE_PATH, what: 'token revocation' };
const MY_GROUPS: Endpoint = { service: 'Globus Groups', path: MY_GROUPS_PATH, what: 'my_groups' };

/** The call itself failed (network, 5xx, not JSON): the service is unavailable. */
class UpstreamUnavailable extends Error {}

/** An answer whose status the toolkit cannot use; `status` lets the caller react to one (401). */
class UnexpectedAnswer extends Error {
  readonly status: number;

  constructor(what: string, status: number) {
    super(`${what}: unexpected HTTP ${status} answer`);
    this.status = status;
  }
}

/** `service` cannot answer now (503); `cause` says why, for the logs. */
export const unavailable = (service: string, cause: unknown): ActionError =>
  new ActionError('ServiceUnavailable', `${service} is unavailable; try again later`, { cause });

/** One call within the deadline, retried once on a network error or 5xx while budget remains. */
async function attempt(call: GlobusCall, { path, what }: Endpoint, init: RequestInit): Promise<Reply> {
  let lastError: unknown;
  for (let tries = 0; tries < 2; tries++) {
    const remaining = call.deadline - Date.now();
    if (remaining <= 0) break;
    try {
      // AbortSignal.timeout takes whole milliseconds only (Node throws a RangeError otherwise).
      const response = await call.fetch(call.url + path, {
        ...init,
        signal: AbortSignal.timeout(Math.ceil(remaining)),
      });
      if (response.status >= 500) {
        // Its status goes with it (telemetry reports a failure by the last status seen).
        lastError = new UnexpectedAnswer(what, response.status);
        await response.body?.cancel().catch(() => {});
        continue;
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new UpstreamUnavailable(`${what}: HTTP ${response.status} with a body that is not JSON`);
      }
      return { status: response.status, body };
    } catch (error) {
      if (error instanceof UpstreamUnavailable) throw error;
      lastError = error;
    }
  }
  throw new UpstreamUnavailable(`${what} failed`, { cause: lastError });
}

/** `attempt`, a call that failed (network, 5xx, not JSON) answered as the service being unavailable (503). */
async function send(call: GlobusCall, endpoint: Endpoint, init: RequestInit): Promise<Reply> {
  try {
    const { telemetry } = call;
    return await (telemetry === undefined
      ? attempt(call, endpoint, init)
      : telemetry.call(endpoint.what, () => attempt(call, endpoint, init), call.url));
  } catch (error) {
    throw unavailable(endpoint.service, error);
  }
}

const form = (credentials: string, fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: {
    authorization: credentials,
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  },
  body: new URLSearchParams(fields).toString(),
});

/** Not the caller's fault: the operator configured the wrong client or environment, so say how to fix it. */
function badCredentials(authUrl: string, { status, body }: Reply): Error {
  const code = isPlainObject(body) && typeof body['error'] === 'string' ? body['error'] : `HTTP ${status}`;
  return new Error(
    `Globus Auth rejected this provider's client credentials (${code}): check the client id and secret (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET) and the Auth environment (${authUrl})`,
  );
}

/**
 * Introspects `token` with the provider's client credentials, linked identities included.
 *
 * @example
 * ```ts
 * const info = await introspectToken({ fetch, url: 'https://auth.globus.org', credentials, deadline: Date.now() + 10_000 }, token)
 * ```
 */
export async function introspectToken(
  call: GlobusCall,
  token: string,
  scope: IntrospectionScope = { session: false, policies: [] },
): Promise<Introspection> {
  const fields: Record<string, string> = {
    token,
    include: scope.session ? 'identity_set,identity_set_detail,session_info' : 'identity_set',
  };
  if (scope.session && scope.policies.length > 0) fields['authentication_policies'] = scope.policies.join(',');
  const reply = await send(call, INTROSPECTION, form(call.credentials, fields));
  const { status, body } = reply;
  if (status === 401 || status === 403) throw badCredentials(call.url, reply);
  if (status !== 200 || !isPlainObject(body) || typeof body['active'] !== 'boolean') {
    throw unavailable(INTROSPECTION.service, new UnexpectedAnswer(INTROSPECTION.what, status));
  }
  if (body['active'] !== true) return { active: false };
  if (typeof body['sub'] !== 'string' || body['sub'] === '') {
    throw unavailable('Globus Auth', new Error('token introspection: an active token without sub'));
  }
  return {
    active: true,
    scope: typeof body['scope'] === 'string' ? body['scope'] : '',
    sub: body['sub'],
    identity_set: Array.isArray(body['identity_set'])
      ? body['identity_set'].filter((x): x is string => typeof x === 'string')
      : [],
    ...(scope.session && { session: sessionOf(body, scope.policies) }),
  };
}

/** A token no one was ever issued: introspected only to learn whether the credentials are good. */
const PROBE_TOKEN = 'globus-action-provider-health-check';

/**
 * Whether Globus Auth accepts the provider's client credentials, without a caller's token: it
 * introspects one that cannot exist, which Globus answers 200 `{"active": false}` with good
 * credentials and 401 with bad ones. Rejects with a 503 ActionError when Globus cannot be reached
 * or answers anything else.
 *
 * @example
 * ```ts
 * const { credentials } = await checkClientCredentials({ fetch, url: 'https://auth.globus.org', credentials, deadline })
 * ```
 */
export async function checkClientCredentials(
  call: GlobusCall,
): Promise<{ credentials: 'accepted' | 'rejected'; error?: string }> {
  const reply = await send(call, INTROSPECTION, form(call.credentials, { token: PROBE_TOKEN }));
  const { status, body } = reply;
  if (status === 401 || status === 403) {
    const code = isPlainObject(body) && typeof body['error'] === 'string' ? ` ${body['error']}` : '';
    return {
      credentials: 'rejected',
      error: `Globus Auth answered HTTP ${status}${code}: check the client id and secret`,
    };
  }
  if (status === 200 && isPlainObject(body) && typeof body['active'] === 'boolean') return { credentials: 'accepted' };
  throw unavailable(INTROSPECTION.service, new UnexpectedAnswer(INTROSPECTION.what, status));
}

/**
 * The session in an introspection answer, keeping only what requirements are checked against.
 * `session_info.authentications` maps identity ids to `{idp, auth_time, amr?, acr?}`; usernames
 * come from `identity_set_detail`. A login counts as multi-factor when its `amr` lists `mfa`
 * (RFC 8176's value; not confirmed by Globus's documentation). A policy the answer does not
 * evaluate counts as unsatisfied.
 */
function sessionOf(body: JsonObject, policies: readonly string[]): Session {
  const usernames = new Map<string, string>();
  const detail = body['identity_set_detail'];
  if (Array.isArray(detail)) {
    for (const item of detail) {
      if (isPlainObject(item) && typeof item['id'] === 'string' && typeof item['username'] === 'string') {
        usernames.set(item['id'], item['username']);
      }
    }
  }
  if (typeof body['sub'] === 'string' && typeof body['username'] === 'string') {
    usernames.set(body['sub'], body['username']);
  }
  const info = isPlainObject(body['session_info']) ? body['session_info'] : {};
  const logins = isPlainObject(info['authentications']) ? info['authentications'] : {};
  const authentications: SessionAuthentication[] = [];
  for (const [id, login] of Object.entries(logins)) {
    if (!isPlainObject(login)) continue;
    const username = usernames.get(id);
    const time = typeof login['auth_time'] === 'number' ? login['auth_time'] * 1000 : undefined;
    authentications.push({
      identity: identityUrn(id),
      ...(username !== undefined && { username }),
      ...(typeof login['idp'] === 'string' && { idp: login['idp'] }),
      ...(time !== undefined && Number.isFinite(time) && { time }),
      mfa: Array.isArray(login['amr']) && login['amr'].includes('mfa'),
    });
  }
  const evaluations = isPlainObject(body['policy_evaluations']) ? body['policy_evaluations'] : {};
  const evaluated: Record<string, boolean> = Object.create(null);
  for (const policy of policies) {
    const answer = evaluations[policy];
    evaluated[policy] = isPlainObject(answer) && answer['evaluation'] === true;
  }
  return {
    ...(typeof info['session_id'] === 'string' && { id: info['session_id'] }),
    authentications,
    policies: evaluated,
  };
}

/**
 * The dependent grant's answer items: throws `ConsentRequiredError` naming the scopes the user
 * has not consented to. `offline` adds `access_type=offline`, which makes each item carry a
 * refresh token.
 */
async function dependentGrant(call: GlobusCall, token: string, offline: boolean): Promise<JsonObject[]> {
  const fields: Record<string, string> = { grant_type: DEPENDENT_TOKEN_GRANT, token };
  if (offline) fields['access_type'] = 'offline';
  const reply = await send(call, DEPENDENT_GRANT, form(call.credentials, fields));
  const { status, body } = reply;
  if (status === 403 && isPlainObject(body) && body['error'] === DEPENDENT_CONSENT_REQUIRED) {
    const scopes = Array.isArray(body['errors'])
      ? body['errors'].flatMap((e: unknown) =>
          isPlainObject(e) && Array.isArray(e['unapproved_scopes']) ? e['unapproved_scopes'] : [],
        )
      : [];
    throw new ConsentRequiredError(scopes.map(String));
  }
  if (status === 401 || (status === 403 && isPlainObject(body) && body['error'] === 'invalid_client'))
    throw badCredentials(call.url, reply);
  if (status === 400) throw new ActionError('UnauthorizedRequest', 'The token cannot be used for dependent tokens');
  if (status !== 200 || !Array.isArray(body))
    throw unavailable(DEPENDENT_GRANT.service, new UnexpectedAnswer(DEPENDENT_GRANT.what, status));
  return body.filter(isPlainObject);
}

const scopesOf = (item: JsonObject): string[] =>
  String(item['scope'] ?? '')
    .split(' ')
    .filter(Boolean);

const expiresAt = (item: JsonObject, now: number): number =>
  now + Number(item['expires_in'] ?? DEFAULT_EXPIRES_IN) * 1000;

/**
 * Trades `token` for dependent tokens; throws `ConsentRequiredError` naming the scopes the user
 * has not consented to. `clock` dates their expiry (ms since the epoch).
 *
 * @example
 * ```ts
 * const tokens = await grantDependentTokens({ fetch, url, credentials, deadline }, token, Date.now)
 * ```
 */
export async function grantDependentTokens(
  call: GlobusCall,
  token: string,
  clock: () => number,
): Promise<DependentToken[]> {
  const items = await dependentGrant(call, token, false);
  const now = clock();
  return items.map((item) => ({
    access_token: String(item['access_token']),
    resource_server: String(item['resource_server'] ?? ''),
    scopes: scopesOf(item),
    expires_at: expiresAt(item, now),
  }));
}

/**
 * The dependent grant with `access_type=offline`: each token comes with a refresh token, so it
 * can be renewed long after `token` has expired. Throws as `grantDependentTokens` does; an
 * answer without a refresh token (a dependent scope registered without `requires_refresh_token`)
 * is the provider's configuration to fix: an Error saying so (a logged 500).
 *
 * @example
 * ```ts
 * const kept = await grantOfflineTokens({ fetch, url, credentials, deadline }, token, Date.now)
 * ```
 */
export async function grantOfflineTokens(
  call: GlobusCall,
  token: string,
  clock: () => number,
): Promise<OfflineToken[]> {
  const items = await dependentGrant(call, token, true);
  const now = clock();
  return items.map((item) => {
    const refresh = item['refresh_token'];
    if (typeof refresh !== 'string' || refresh === '') {
      // Not a passing failure: retrying will not help, the provider's scope must be changed.
      throw new Error(
        `Globus Auth granted a token for ${String(item['resource_server'])} without a refresh token (access_type=offline): register the provider scope's dependent scopes with requires_refresh_token: true`,
      );
    }
    return {
      access_token: String(item['access_token']),
      refresh_token: refresh,
      resource_server: String(item['resource_server'] ?? ''),
      scopes: scopesOf(item),
      expires_at: expiresAt(item, now),
    };
  });
}

/**
 * A new access token for `token` through the refresh token grant. A rotating Globus Auth answers
 * a new refresh token, which replaces the old one; without one, the old one stays. A refused
 * refresh token (400 `invalid_grant`: revoked, expired, consent withdrawn) is an
 * `UnauthorizedRequest` ActionError.
 *
 * @example
 * ```ts
 * const renewed = await refreshOfflineToken({ fetch, url, credentials, deadline }, kept, Date.now)
 * ```
 */
export async function refreshOfflineToken(
  call: GlobusCall,
  token: OfflineToken,
  clock: () => number,
): Promise<OfflineToken> {
  const reply = await send(
    call,
    REFRESH_GRANT,
    form(call.credentials, { grant_type: 'refresh_token', refresh_token: token.refresh_token }),
  );
  const { status, body } = reply;
  if (status === 401 || (status === 403 && isPlainObject(body) && body['error'] === 'invalid_client'))
    throw badCredentials(call.url, reply);
  if (status === 400 || status === 403) {
    const code = isPlainObject(body) && typeof body['error'] === 'string' ? body['error'] : `HTTP ${status}`;
    throw new ActionError('UnauthorizedRequest', `Globus Auth refused the refresh token (${code})`);
  }
  if (status !== 200 || !isPlainObject(body) || typeof body['access_token'] !== 'string')
    throw unavailable(REFRESH_GRANT.service, new UnexpectedAnswer(REFRESH_GRANT.what, status));
  const scopes = scopesOf(body);
  const rotated = body['refresh_token'];
  return {
    access_token: body['access_token'],
    refresh_token: typeof rotated === 'string' && rotated !== '' ? rotated : token.refresh_token,
    resource_server: typeof body['resource_server'] === 'string' ? body['resource_server'] : token.resource_server,
    scopes: scopes.length > 0 ? scopes : token.scopes,
    expires_at: expiresAt(body, clock()),
  };
}

/**
 * Revokes an access or refresh token (RFC 7009). Globus answers 200 whether or not it knew the
 * token; only bad client credentials or an unavailable Globus make this throw.
 *
 * @example
 * ```ts
 * await revokeToken({ fetch, url, credentials, deadline }, kept.refresh_token)
 * ```
 */
export async function revokeToken(call: GlobusCall, token: string): Promise<void> {
  const reply = await send(call, REVOCATION, form(call.credentials, { token }));
  if (reply.status === 401 || reply.status === 403) throw badCredentials(call.url, reply);
  if (reply.status !== 200) throw unavailable(REVOCATION.service, new UnexpectedAnswer(REVOCATION.what, reply.status));
}

/**
 * The caller's group URNs, read from Globus Groups with a dependent Groups token.
 *
 * @example
 * ```ts
 * const groups = await fetchMyGroups({ fetch, url: 'https://groups.api.globus.org', credentials: `Bearer ${groupsToken}`, deadline })
 * ```
 */
export async function fetchMyGroups(call: GlobusCall): Promise<readonly string[]> {
  const { status, body } = await send(call, MY_GROUPS, {
    headers: { authorization: call.credentials, accept: 'application/json' },
  });
  if (status !== 200 || !Array.isArray(body)) {
    throw unavailable(MY_GROUPS.service, new UnexpectedAnswer(MY_GROUPS.what, status));
  }
  return body.filter(isPlainObject).map((group) => groupUrn(String(group['id'])));
}

/** True when Globus Groups refused the dependent token itself (401): revoked, say, so a cached one is stale. */
export function isTokenRefused(error: unknown): boolean {
  return error instanceof ActionError && error.cause instanceof UnexpectedAnswer && error.cause.status === 401;
}
