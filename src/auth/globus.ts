/**
 * @module auth/globus: `globusAuth()`, the Authenticator for Globus Auth access tokens: token
 * introspection with the provider's client credentials, linked identities, lazily resolved
 * groups, and dependent tokens for calls to other Globus services on the caller's behalf.
 *
 * It calls Globus with `fetch` directly instead of the official `@globus/sdk`: that package
 * pulls in the cross-fetch polyfill, keeps its configuration in module-level state and reads
 * `process.env` (absent on Cloudflare Workers), none of which fits a library that must run
 * unchanged on Node, Bun, Deno and Workers. The three calls here are plain form POSTs and GETs.
 */
import { memoryCache, singleFlight, type TtlCache, tokenHash, tokenHashSync } from '../cache.ts';
import { ActionError } from '../http/errors.ts';
import { isPlainObject } from '../model.ts';
import { createCaller, groupUrn, identityUrn } from './caller.ts';
import { ConsentRequiredError } from './consent.ts';
import type { Authenticator, Caller } from './types.ts';

/** Where Globus services live, per environment (as the official SDKs map them). */
export const GLOBUS_ENVIRONMENTS = {
  production: { auth: 'https://auth.globus.org', groups: 'https://groups.api.globus.org' },
  preview: { auth: 'https://auth.preview.globus.org', groups: 'https://groups.api.preview.globuscs.info' },
  sandbox: { auth: 'https://auth.sandbox.globuscs.info', groups: 'https://groups.api.sandbox.globuscs.info' },
  integration: {
    auth: 'https://auth.integration.globuscs.info',
    groups: 'https://groups.api.integration.globuscs.info',
  },
  test: { auth: 'https://auth.test.globuscs.info', groups: 'https://groups.api.test.globuscs.info' },
  staging: { auth: 'https://auth.staging.globuscs.info', groups: 'https://groups.api.staging.globuscs.info' },
} as const;

export type GlobusEnvironment = keyof typeof GLOBUS_ENVIRONMENTS;

/** The scope of the dependent token that reads the caller's groups. */
export const GROUPS_SCOPE = 'urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships';
const GROUPS_RESOURCE_SERVER = 'groups.api.globus.org';
const DEPENDENT_GRANT = 'urn:globus:auth:grant_type:dependent_token';

/** The parts of an introspection answer the toolkit uses (what the cache holds, never the token). */
export interface Introspection {
  active: boolean;
  scope?: string;
  sub?: string;
  identity_set?: string[];
}

export interface DependentToken {
  access_token: string;
  resource_server: string;
  scopes: string[];
  /** ms since the epoch. */
  expires_at: number;
}

export interface GlobusAuthCaches {
  introspection?: TtlCache<Introspection>;
  dependentTokens?: TtlCache<DependentToken[]>;
  groups?: TtlCache<readonly string[]>;
}

export interface GlobusAuthOptions {
  /** The provider's Globus Auth client id. */
  clientId: string;
  /** The provider's client secret. */
  clientSecret: string;
  /** `production` (default), `sandbox`, `preview`, ... like GLOBUS_SDK_ENVIRONMENT. */
  environment?: GlobusEnvironment;
  /** Base URL of Globus Auth, overriding the environment (like GLOBUS_SDK_SERVICE_URL_AUTH). */
  authUrl?: string;
  /** Base URL of Globus Groups (like GLOBUS_SDK_SERVICE_URL_GROUPS). */
  groupsUrl?: string;
  /** Budget for each call to Globus, retry included, in ms. Default 10,000. */
  timeout?: number;
  /**
   * When groups cannot be read while a decision needs them: `error` answers 503 (default),
   * `empty` treats the caller as in no group, as the Python toolkit does.
   */
  groupsFailure?: 'error' | 'empty';
  /** Per-instance caches by default; pass shared ones to share them between instances. */
  caches?: GlobusAuthCaches;
  /** Entries per default cache. Default 10,000. */
  cacheSize?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
}

const MAX_TIMEOUT = 2_147_483_647;
const INTROSPECTION_TTL = 30_000;
const GROUPS_TTL = 5 * 60_000;
/** The Python toolkit keeps dependent tokens 47 h; never past a token's own expiry (less a minute). */
const DEPENDENT_TTL = 47 * 3600_000;
const EXPIRY_MARGIN = 60_000;

/** Options for `globusAuth` from environment variables (process.env, or a Worker's bindings). */
export function globusAuthOptionsFromEnv(env: Record<string, unknown>): GlobusAuthOptions | undefined {
  const str = (name: string) => (typeof env[name] === 'string' && env[name] !== '' ? (env[name] as string) : undefined);
  const clientId = str('GLOBUS_CLIENT_ID');
  const clientSecret = str('GLOBUS_CLIENT_SECRET');
  if (clientId === undefined || clientSecret === undefined) return undefined;
  const environment = str('GLOBUS_SDK_ENVIRONMENT');
  const authUrl = str('GLOBUS_SDK_SERVICE_URL_AUTH');
  const groupsUrl = str('GLOBUS_SDK_SERVICE_URL_GROUPS');
  return {
    clientId,
    clientSecret,
    ...(environment === undefined ? {} : { environment: environment as GlobusEnvironment }),
    ...(authUrl === undefined ? {} : { authUrl }),
    ...(groupsUrl === undefined ? {} : { groupsUrl }),
  };
}

function baseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`globusAuth: ${name} must be an absolute URL`);
  }
  return url.href.replace(/\/+$/, '');
}

class UpstreamUnavailable extends Error {}

/**
 * An Authenticator for Globus Auth access tokens.
 *
 * @example
 * ```ts
 * createActionProvider({ ..., auth: globusAuth({ clientId: env.GLOBUS_CLIENT_ID, clientSecret: env.GLOBUS_CLIENT_SECRET }) })
 * ```
 */
export function globusAuth(options: GlobusAuthOptions): Authenticator {
  if (typeof options !== 'object' || options === null) throw new TypeError('globusAuth: options must be an object');
  if (typeof options.clientId !== 'string' || options.clientId === '')
    throw new TypeError('globusAuth: clientId is required');
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '')
    throw new TypeError('globusAuth: clientSecret is required');
  const environment = options.environment ?? 'production';
  // Object.hasOwn: 'toString' or '__proto__' are not environments.
  const hosts = Object.hasOwn(GLOBUS_ENVIRONMENTS, environment) ? GLOBUS_ENVIRONMENTS[environment] : undefined;
  if (hosts === undefined) {
    throw new TypeError(`globusAuth: environment must be one of ${Object.keys(GLOBUS_ENVIRONMENTS).join(', ')}`);
  }
  const authUrl = baseUrl(options.authUrl ?? hosts.auth, 'authUrl');
  const groupsUrl = baseUrl(options.groupsUrl ?? hosts.groups, 'groupsUrl');
  const timeout = options.timeout ?? 10_000;
  // Timers hold at most 2^31-1 ms (Node fires a longer AbortSignal.timeout after 1 ms); a string would concatenate.
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_TIMEOUT) {
    throw new TypeError(`globusAuth: timeout must be a positive number of ms, at most ${MAX_TIMEOUT}`);
  }
  const groupsFailure = options.groupsFailure ?? 'error';
  if (groupsFailure !== 'error' && groupsFailure !== 'empty')
    throw new TypeError("globusAuth: groupsFailure must be 'error' or 'empty'");
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const clock = options.clock ?? Date.now;
  const size = options.cacheSize ?? 10_000;
  const introspections = options.caches?.introspection ?? memoryCache<Introspection>({ max: size, clock });
  const dependents = options.caches?.dependentTokens ?? memoryCache<DependentToken[]>({ max: size, clock });
  const groupCache = options.caches?.groups ?? memoryCache<readonly string[]>({ max: size, clock });
  const basic = `Basic ${btoa(`${options.clientId}:${options.clientSecret}`)}`;
  const introspectOnce = singleFlight<Introspection>();
  const dependentOnce = singleFlight<DependentToken[]>();
  const groupsOnce = singleFlight<readonly string[]>();

  /** One call with the timeout budget, retried once on a network error or 5xx while budget remains. */
  async function call(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown }> {
    const deadline = Date.now() + timeout;
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        // AbortSignal.timeout takes whole milliseconds only (Node throws a RangeError otherwise).
        const response = await doFetch(url, { ...init, signal: AbortSignal.timeout(Math.ceil(remaining)) });
        if (response.status >= 500) {
          lastError = new Error(`${what}: HTTP ${response.status}`);
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

  const unavailable = (service: string, cause: unknown) =>
    new ActionError('ServiceUnavailable', `${service} is unavailable; try again later`, { cause });

  function badCredentials(status: number, body: unknown): Error {
    const code = isPlainObject(body) && typeof body['error'] === 'string' ? body['error'] : `HTTP ${status}`;
    return new Error(
      `Globus Auth rejected this provider's client credentials (${code}): check the client id and secret (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET) and the Auth environment (${authUrl})`,
    );
  }

  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });

  async function introspect(token: string): Promise<Introspection> {
    let reply: { status: number; body: unknown };
    try {
      reply = await call(
        `${authUrl}/v2/oauth2/token/introspect`,
        form({ token, include: 'identity_set' }),
        'token introspection',
      );
    } catch (error) {
      throw unavailable('Globus Auth', error);
    }
    const { status, body } = reply;
    if (status === 401 || status === 403) throw badCredentials(status, body);
    if (status !== 200 || !isPlainObject(body) || typeof body['active'] !== 'boolean') {
      throw unavailable('Globus Auth', new Error(`token introspection: unexpected HTTP ${status} answer`));
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
    };
  }

  async function fetchDependentTokens(token: string): Promise<DependentToken[]> {
    let reply: { status: number; body: unknown };
    try {
      reply = await call(
        `${authUrl}/v2/oauth2/token`,
        form({ grant_type: DEPENDENT_GRANT, token }),
        'dependent token grant',
      );
    } catch (error) {
      throw unavailable('Globus Auth', error);
    }
    const { status, body } = reply;
    if (status === 403 && isPlainObject(body) && body['error'] === 'dependent_consent_required') {
      const scopes = Array.isArray(body['errors'])
        ? body['errors'].flatMap((e: unknown) =>
            isPlainObject(e) && Array.isArray(e['unapproved_scopes']) ? e['unapproved_scopes'] : [],
          )
        : [];
      throw new ConsentRequiredError(scopes.map(String));
    }
    if (status === 401 || (status === 403 && isPlainObject(body) && body['error'] === 'invalid_client'))
      throw badCredentials(status, body);
    if (status === 400) throw new ActionError('UnauthorizedRequest', 'The token cannot be used for dependent tokens');
    if (status !== 200 || !Array.isArray(body))
      throw unavailable('Globus Auth', new Error(`dependent token grant: unexpected HTTP ${status} answer`));
    const now = clock();
    return body.filter(isPlainObject).map((item) => ({
      access_token: String(item['access_token']),
      resource_server: String(item['resource_server'] ?? ''),
      scopes: String(item['scope'] ?? '')
        .split(' ')
        .filter(Boolean),
      expires_at: now + Number(item['expires_in'] ?? 3600) * 1000,
    }));
  }

  /** The caller's dependent tokens: cached by token hash until shortly before they expire. */
  async function dependentTokens(token: string, key: string, refresh: boolean): Promise<DependentToken[]> {
    if (!refresh) {
      const cached = await dependents.get(key);
      if (cached !== undefined) return cached;
    }
    return dependentOnce(key, async () => {
      const tokens = await fetchDependentTokens(token);
      const soonest = Math.min(...tokens.map((t) => t.expires_at), clock() + DEPENDENT_TTL + EXPIRY_MARGIN);
      const ttl = Math.min(DEPENDENT_TTL, soonest - EXPIRY_MARGIN - clock());
      // Tokens about to expire are used once and not kept.
      if (ttl > 0) await dependents.set(key, tokens, ttl);
      return tokens;
    });
  }

  /** A token for a scope, or for a resource server named instead of a scope. */
  const find = (tokens: DependentToken[], scope: string) =>
    tokens.find((t) => t.scopes.includes(scope)) ??
    tokens.find((t) => t.resource_server === (scope === GROUPS_SCOPE ? GROUPS_RESOURCE_SERVER : scope));

  /** An access token for `scope`; a cached answer lacking it is refetched once, as the Python toolkit does. */
  async function tokenFor(token: string, key: string, scope: string): Promise<string> {
    let found = find(await dependentTokens(token, key, false), scope);
    found ??= find(await dependentTokens(token, key, true), scope);
    if (found === undefined) throw new ConsentRequiredError([scope]);
    return found.access_token;
  }

  async function fetchGroups(token: string, key: string): Promise<readonly string[]> {
    let groupsToken: string;
    try {
      groupsToken = await tokenFor(token, key, GROUPS_SCOPE);
    } catch (error) {
      if (error instanceof ActionError && error.code === 'UnauthorizedRequest') throw error;
      if (error instanceof ConsentRequiredError) {
        // Globus refuses the whole dependent grant while any dependent scope lacks consent.
        throw new ActionError(
          'ServiceUnavailable',
          `Globus Groups cannot be read until the user consents to ${error.scopes.join(' ')}`,
          { cause: error },
        );
      }
      throw unavailable('Globus Groups', error);
    }
    let reply: { status: number; body: unknown };
    try {
      reply = await call(
        `${groupsUrl}/v2/groups/my_groups`,
        { headers: { authorization: `Bearer ${groupsToken}`, accept: 'application/json' } },
        'my_groups',
      );
    } catch (error) {
      throw unavailable('Globus Groups', error);
    }
    if (reply.status === 401) {
      // Groups refused the cached dependent token (revoked, say): fetch a fresh one next time.
      await dependents.delete(key);
    }
    if (reply.status !== 200 || !Array.isArray(reply.body)) {
      throw unavailable('Globus Groups', new Error(`my_groups: unexpected HTTP ${reply.status} answer`));
    }
    return reply.body.filter(isPlainObject).map((group) => groupUrn(String(group['id'])));
  }

  async function groups(token: string, key: string): Promise<readonly string[]> {
    const cached = await groupCache.get(key);
    if (cached !== undefined) return cached;
    try {
      return await groupsOnce(key, async () => {
        const found = await fetchGroups(token, key);
        await groupCache.set(key, found, GROUPS_TTL);
        return found;
      });
    } catch (error) {
      if (groupsFailure === 'empty' && error instanceof ActionError && error.code === 'ServiceUnavailable') return [];
      throw error;
    }
  }

  return {
    authenticate({ token }) {
      // A token introspected in the last 30 s is answered without a promise where the runtime
      // hashes synchronously and the cache answers synchronously.
      const syncKey = tokenHashSync(token);
      const cached = syncKey === undefined ? undefined : introspections.get(syncKey);
      if (cached !== undefined && !(cached instanceof Promise)) return callerFrom(cached, token, syncKey as string);
      return (async () => {
        const key = syncKey ?? (await tokenHash(token));
        let info = await introspections.get(key);
        if (info === undefined) {
          info = await introspectOnce(key, async () => {
            const result = await introspect(token);
            await introspections.set(key, result, INTROSPECTION_TTL);
            return result;
          });
        }
        return callerFrom(info, token, key);
      })();
    },
  };

  function callerFrom(info: Introspection, token: string, key: string): Caller {
    if (!info.active || info.sub === undefined) throw new ActionError('UnauthorizedRequest', 'The token is not active');
    return createCaller({
      identity: identityUrn(info.sub),
      identities: (info.identity_set ?? []).map(identityUrn),
      scopes: (info.scope ?? '').split(' ').filter(Boolean),
      token,
      groups: () => groups(token, key),
      tokenFor: (scope) => tokenFor(token, key, scope),
    });
  }
}
