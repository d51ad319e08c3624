/**
 * @module auth/globus: `globusAuth()`, the Authenticator for Globus Auth access tokens: token
 * introspection with the provider's client credentials, linked identities, lazily resolved
 * groups, and dependent tokens for calls to other Globus services on the caller's behalf, during
 * the request (`caller.tokenFor`) or long after it (`offline`: refreshable tokens, for `keepTokens`).
 */
import { memoryCache, singleFlight, type TtlCache } from '../../cache.ts';
import { ActionError } from '../../http/errors.ts';
import type { AuthTelemetry } from '../../observe/telemetry.ts';
import { cachedAuthentication } from '../cached.ts';
import { createCaller, identityUrn } from '../caller.ts';
import { ConsentRequiredError } from '../consent.ts';
import { periodicCheck } from '../periodic-check.ts';
import type { Session } from '../session.ts';
import type { Authenticator, Caller, OfflineGrants } from '../types.ts';
import {
  checkClientCredentials,
  type DependentToken,
  fetchMyGroups,
  type GlobusCall,
  grantDependentTokens,
  grantOfflineTokens,
  type Introspection,
  type IntrospectionScope,
  introspectToken,
  isTokenRefused,
  refreshOfflineToken,
  revokeToken,
  unavailable,
} from './client.ts';
import { GROUPS_SCOPE, resourceServer } from './environments.ts';
import { beforeDeadline, introspectionLimiter, type Limiter, type RequestBudget, requestBudget } from './limits.ts';
import { type GlobusAuthOptions, type ResolvedGlobusAuthOptions, resolveGlobusAuthOptions } from './options.ts';

export type { DependentToken, Introspection } from './client.ts';
export { GLOBUS_ENVIRONMENTS, type GlobusEnvironment, GROUPS_SCOPE } from './environments.ts';
export { type GlobusAuthCaches, type GlobusAuthOptions, globusAuthOptionsFromEnv } from './options.ts';

const INTROSPECTION_TTL = 30_000;
const GROUPS_TTL = 5 * 60_000;
/** The Python toolkit keeps dependent tokens 47 h; never past a token's own expiry (less a minute). */
const DEPENDENT_TTL = 47 * 3600_000;
const EXPIRY_MARGIN = 60_000;
/** The default inactive-answer cache holds this fraction of `cacheSize`: bogus tokens need few entries. */
const INACTIVE_SHARE = 10;

/** One authenticator's state: its checked options, its caches, its single flights and its limiter. Nothing else. */
interface GlobusAuthState extends ResolvedGlobusAuthOptions {
  dependents: TtlCache<DependentToken[]>;
  groupCache: TtlCache<readonly string[]>;
  dependentOnce: (key: string, load: () => Promise<DependentToken[]>) => Promise<DependentToken[]>;
  groupsOnce: (key: string, load: () => Promise<readonly string[]>) => Promise<readonly string[]>;
  introspections: Limiter;
  /**
   * What every introspection asks for: the session and the policies of the providers that
   * check sessions (`expectSessions`, called as each is created; never changed by a request).
   */
  scope: IntrospectionScope & { policies: string[] };
  /** Sessions fetched by one more introspection, for a check the first one did not cover. */
  sessions: TtlCache<Session>;
  sessionsOnce: (key: string, load: () => Promise<Session>) => Promise<Session>;
  /** Where calls and cache lookups are reported, once a provider with telemetry said so (`instrument`). */
  telemetry: AuthTelemetry | undefined;
}

/**
 * An Authenticator for Globus Auth access tokens.
 *
 * @example
 * ```ts
 * createActionProvider({ ..., auth: globusAuth({ clientId: env.GLOBUS_CLIENT_ID, clientSecret: env.GLOBUS_CLIENT_SECRET }) })
 * ```
 */
export function globusAuth(options: GlobusAuthOptions): Authenticator {
  const resolved = resolveGlobusAuthOptions(options);
  const { cacheSize: max, clock } = resolved;
  const state: GlobusAuthState = {
    ...resolved,
    dependents: options.caches?.dependentTokens ?? memoryCache<DependentToken[]>({ max, clock }),
    groupCache: options.caches?.groups ?? memoryCache<readonly string[]>({ max, clock }),
    dependentOnce: singleFlight<DependentToken[]>(),
    groupsOnce: singleFlight<readonly string[]>(),
    introspections: introspectionLimiter(resolved.maxConcurrentIntrospections),
    scope: { session: false, policies: [] },
    sessions: memoryCache<Session>({ max, clock }),
    sessionsOnce: singleFlight<Session>(),
    telemetry: undefined,
  };
  const authenticate = cachedAuthentication<Introspection, RequestBudget>({
    ...introspectionCaches(options, max, clock),
    resolve: (token, budget) => introspect(state, token, budget),
    wait: (pending, budget) => budget.spend((deadline) => beforeDeadline(pending, deadline, 'Globus Auth')),
    toCaller: (info, token, key, budget) => callerFrom(state, info, token, key, budget),
    looked: (hit) => state.telemetry?.cacheLookup('introspection', hit),
  });
  // The budget starts with authentication and goes with the Caller to its later calls.
  return {
    authenticate: ({ token }) => authenticate(token, requestBudget(state.timeout)),
    offline: offline(state),
    authUrl: state.authUrl,
    instrument(telemetry) {
      state.telemetry = telemetry;
    },
    // Reachable, and the client credentials accepted: a call of its own, its whole timeout.
    health: periodicCheck(
      async () => ({
        reachable: true,
        ...(await checkClientCredentials(wire(state, state.authUrl, state.credentials, Date.now() + state.timeout))),
      }),
      { interval: state.healthInterval, clock: state.clock },
    ),
    expectSessions(policies) {
      state.scope.session = true;
      for (const policy of policies) if (!state.scope.policies.includes(policy)) state.scope.policies.push(policy);
    },
  };
}

/**
 * Refreshable dependent tokens, for `keepTokens`: each call gets the whole `timeout` of its own
 * (it may run long after any request, in background work). Nothing is cached: the provider keeps
 * these tokens sealed in the action.
 */
function offline(state: GlobusAuthState): OfflineGrants {
  const call = () => wire(state, state.authUrl, state.credentials, Date.now() + state.timeout);
  return {
    grant: (token) => grantOfflineTokens(call(), token, state.clock),
    refresh: (token) => refreshOfflineToken(call(), token, state.clock),
    revoke: (token) => revokeToken(call(), token),
    clock: state.clock,
  };
}

/**
 * Active and inactive answers apart, so that distinct bogus tokens evict only one another; an
 * `introspection` cache given alone takes both, as before.
 */
function introspectionCaches(options: GlobusAuthOptions, max: number, clock: () => number) {
  const given = options.caches ?? {};
  const inactive =
    given.inactive ??
    (given.introspection === undefined
      ? memoryCache<Introspection>({ max: Math.ceil(max / INACTIVE_SHARE), clock })
      : undefined);
  return {
    cache: given.introspection ?? memoryCache<Introspection>({ max, clock }),
    ...(inactive === undefined ? {} : { rejected: { cache: inactive, is: (info: Introspection) => !info.active } }),
  };
}

/** One introspection, within the request's budget and the instance's limit of outstanding ones. */
function introspect(state: GlobusAuthState, token: string, budget: RequestBudget) {
  return budget.spend((deadline) =>
    state.introspections(async () => ({
      value: await introspectToken(wire(state, state.authUrl, state.credentials, deadline), token, {
        session: state.scope.session,
        policies: [...state.scope.policies],
      }),
      ttl: INTROSPECTION_TTL,
    })),
  );
}

/** A call's context: where, as whom, and until when (the request's deadline). */
function wire(state: GlobusAuthState, url: string, credentials: string, deadline: number): GlobusCall {
  return { fetch: state.fetch, url, credentials, deadline, telemetry: state.telemetry };
}

function callerFrom(
  state: GlobusAuthState,
  info: Introspection,
  token: string,
  key: string,
  budget: RequestBudget,
): Caller {
  if (!info.active || info.sub === undefined) throw new ActionError('UnauthorizedRequest', 'The token is not active');
  return createCaller({
    identity: identityUrn(info.sub),
    identities: (info.identity_set ?? []).map(identityUrn),
    scopes: (info.scope ?? '').split(' ').filter(Boolean),
    token,
    groups: () => budget.spend((deadline) => groups(state, token, key, deadline)),
    tokenFor: (scope) => budget.spend((deadline) => tokenFor(state, token, key, scope, deadline)),
    renewTokens: () =>
      budget.spend(async (deadline) => {
        await dependentTokens(state, token, key, true, deadline);
      }),
    session: (policies) => {
      const known = info.session;
      if (known !== undefined && policies.every((policy) => Object.hasOwn(known.policies, policy)))
        return Promise.resolve(known);
      return budget.spend((deadline) => sessionOf(state, token, key, policies, deadline));
    },
  });
}

/**
 * The session, from one more introspection asking for it and for `policies` (with those every
 * introspection asks for): a check the first introspection did not cover (a callback's
 * `requireSession`, a policy no provider option names). Cached by token hash and policies, for
 * as long as an introspection.
 */
async function sessionOf(
  state: GlobusAuthState,
  token: string,
  key: string,
  policies: readonly string[],
  deadline: number,
): Promise<Session> {
  const all = [...new Set([...state.scope.policies, ...policies])].sort();
  const cacheKey = `${key} ${all.join(',')}`;
  const cached = await state.sessions.get(cacheKey);
  state.telemetry?.cacheLookup('sessions', cached !== undefined);
  if (cached !== undefined) return cached;
  const pending = state.sessionsOnce(cacheKey, () =>
    state.introspections(async () => {
      const info = await introspectToken(wire(state, state.authUrl, state.credentials, deadline), token, {
        session: true,
        policies: all,
      });
      if (!info.active) throw new ActionError('UnauthorizedRequest', 'The token is not active');
      const session = info.session ?? { authentications: [], policies: {} };
      await state.sessions.set(cacheKey, session, INTROSPECTION_TTL);
      return session;
    }),
  );
  return beforeDeadline(pending, deadline, 'Globus Auth');
}

/** The caller's dependent tokens: cached by token hash until shortly before they expire. */
async function dependentTokens(
  state: GlobusAuthState,
  token: string,
  key: string,
  refresh: boolean,
  deadline: number,
): Promise<DependentToken[]> {
  const { dependents, clock } = state;
  if (!refresh) {
    const cached = await dependents.get(key);
    state.telemetry?.cacheLookup('dependent_tokens', cached !== undefined);
    if (cached !== undefined) return cached;
  }
  const pending = state.dependentOnce(key, async () => {
    const tokens = await grantDependentTokens(wire(state, state.authUrl, state.credentials, deadline), token, clock);
    const soonest = Math.min(...tokens.map((t) => t.expires_at), clock() + DEPENDENT_TTL + EXPIRY_MARGIN);
    const ttl = Math.min(DEPENDENT_TTL, soonest - EXPIRY_MARGIN - clock());
    // Tokens about to expire are used once and not kept.
    if (ttl > 0) await dependents.set(key, tokens, ttl);
    return tokens;
  });
  return beforeDeadline(pending, deadline, 'Globus Auth');
}

/**
 * A token for a scope, or for a resource server named instead of a scope. Only the Groups scope
 * is also looked up by its resource server (as the Python toolkit finds it); another scope must
 * be granted by name, so a token of the same server lacking it is not taken for it.
 */
const find = (tokens: DependentToken[], scope: string) =>
  tokens.find((t) => t.scopes.includes(scope)) ??
  tokens.find((t) => t.resource_server === (scope === GROUPS_SCOPE ? resourceServer(scope) : scope));

/** An access token for `scope`; a cached answer lacking it is refetched once, as the Python toolkit does. */
async function tokenFor(
  state: GlobusAuthState,
  token: string,
  key: string,
  scope: string,
  deadline: number,
): Promise<string> {
  let found = find(await dependentTokens(state, token, key, false, deadline), scope);
  found ??= find(await dependentTokens(state, token, key, true, deadline), scope);
  if (found === undefined) throw new ConsentRequiredError([scope], { cause: NOT_GRANTED });
  return found.access_token;
}

/**
 * The cause of a ConsentRequiredError for a scope the grant answered without: for a callback's
 * scope, as for a refused grant, the user is asked; for Groups it means the provider's scope
 * lists no Groups dependency, which no consent of the user's can mend.
 */
const NOT_GRANTED: Error = new Error('The dependent grant holds no token for this scope');

/** The Groups token, with what keeps it from the caller said as Groups being unavailable (503). */
async function groupsToken(state: GlobusAuthState, token: string, key: string, deadline: number): Promise<string> {
  try {
    return await tokenFor(state, token, key, GROUPS_SCOPE, deadline);
  } catch (error) {
    if (error instanceof ActionError && error.code === 'UnauthorizedRequest') throw error;
    // Globus refuses the whole dependent grant while any dependent scope lacks consent: the
    // user must be asked (a 403 GARE, or an INACTIVE action), not told to retry.
    if (error instanceof ConsentRequiredError && error.cause !== NOT_GRANTED) throw error;
    if (error instanceof ConsentRequiredError) {
      throw new ActionError('ServiceUnavailable', 'The dependent grant holds no Globus Groups token', {
        cause: error,
      });
    }
    throw unavailable('Globus Groups', error);
  }
}

async function fetchGroups(
  state: GlobusAuthState,
  token: string,
  key: string,
  deadline: number,
): Promise<readonly string[]> {
  const bearer = `Bearer ${await groupsToken(state, token, key, deadline)}`;
  try {
    return await fetchMyGroups(wire(state, state.groupsUrl, bearer, deadline));
  } catch (error) {
    // Groups refused the cached dependent token (revoked, say): fetch a fresh one next time.
    if (isTokenRefused(error)) await state.dependents.delete(key);
    throw error;
  }
}

/** The caller's group URNs: cached by token hash, one fetch at a time per token. */
async function groups(
  state: GlobusAuthState,
  token: string,
  key: string,
  deadline: number,
): Promise<readonly string[]> {
  const cached = await state.groupCache.get(key);
  state.telemetry?.cacheLookup('groups', cached !== undefined);
  if (cached !== undefined) return cached;
  try {
    const pending = state.groupsOnce(key, async () => {
      const found = await fetchGroups(state, token, key, deadline);
      await state.groupCache.set(key, found, GROUPS_TTL);
      return found;
    });
    return await beforeDeadline(pending, deadline, 'Globus Groups');
  } catch (error) {
    if (state.groupsFailure === 'empty' && error instanceof ActionError && error.code === 'ServiceUnavailable') {
      return [];
    }
    throw error;
  }
}
