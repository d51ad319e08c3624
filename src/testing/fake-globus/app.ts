/**
 * @module testing/fake-globus/app: the fake's Hono app, the Globus endpoints speaking the real
 * wire format (introspection; the token endpoint's dependent grant, online or offline, and
 * refresh grant; revocation; my_groups), at the paths and with the constants `globusAuth` uses.
 */
import { type Context, Hono } from 'hono';
import {
  DEPENDENT_CONSENT_REQUIRED,
  DEPENDENT_TOKEN_GRANT,
  GROUPS_SCOPE,
  INTROSPECT_PATH,
  MY_GROUPS_PATH,
  REVOKE_PATH,
  resourceServer,
  TOKEN_PATH,
} from '../../auth/globus/environments.ts';
import { identitySetDetail, policyEvaluations, sessionInfo } from './sessions.ts';
import {
  clientFrom,
  type FakeState,
  identitySet,
  issueAccessToken,
  liveToken,
  randomToken,
  takeFailure,
} from './state.ts';
import type { FakeClient, FakeEndpoint, FakeGlobusCalls } from './types.ts';

/** A dropped connection; thrown through the injected fetch as a real fetch rejects with a TypeError. */
class ConnectionReset extends TypeError {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Apply latency and injected failures; a Response short-circuits, `reset` drops the connection. */
async function intercept(state: FakeState, endpoint: FakeEndpoint, c: Context): Promise<Response | undefined> {
  if (endpoint === 'revoke') state.revocations++;
  else state.calls[endpoint]++;
  if (state.latency) await sleep(state.latency);
  const failure = takeFailure(state, endpoint);
  if (failure === undefined) return undefined;
  if (failure.delay) await sleep(failure.delay);
  if (failure.reset) {
    const incoming = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming;
    if (incoming?.socket) {
      incoming.socket.destroy();
      return new Response(null, { status: 500 });
    }
    throw new ConnectionReset('fetch failed: connection reset by fake Globus');
  }
  if (failure.status === undefined && failure.body === undefined) return undefined;
  return new Response(failure.body ?? JSON.stringify({ error: 'injected_failure' }), {
    status: failure.status ?? 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** Runs one endpoint's answer, counting it as outstanding until it is done (answered, reset or thrown). */
async function counted(
  state: FakeState,
  endpoint: keyof FakeGlobusCalls,
  answer: () => Promise<Response>,
): Promise<Response> {
  const now = ++state.outstanding[endpoint];
  if (now > state.peak[endpoint]) state.peak[endpoint] = now;
  try {
    return await answer();
  } finally {
    state.outstanding[endpoint]--;
  }
}

async function introspect(state: FakeState, c: Context): Promise<Response> {
  const client = clientFrom(state, c.req.header('authorization') ?? '');
  if (client === undefined) return c.json({ error: 'invalid_client' }, 401);
  const form = new URLSearchParams(await c.req.text());
  const token = form.get('token') ?? '';
  const record = liveToken(state, token);
  if (record === undefined) return c.json({ active: false });
  const user = state.users.get(record.user) ?? { id: record.user };
  const now = Math.floor(state.clock() / 1000);
  const include = (form.get('include') ?? '').split(',');
  const policies = form.get('authentication_policies');
  return c.json({
    active: true,
    token_type: 'Bearer',
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    sub: user.id,
    username: user.username ?? `${user.id}@example.org`,
    name: user.name ?? 'Fake User',
    email: user.email ?? `${user.id}@example.org`,
    aud: [client.id],
    iss: 'https://auth.globus.org',
    exp: Math.floor(record.expiresAt / 1000),
    iat: now,
    nbf: now,
    dependent_tokens_cache_id: token.slice(0, 12),
    ...(include.includes('identity_set') ? { identity_set: identitySet(state, user.id) } : {}),
    ...(include.includes('identity_set_detail')
      ? { identity_set_detail: identitySetDetail(state, identitySet(state, user.id)) }
      : {}),
    ...(include.includes('session_info') ? { session_info: sessionInfo(record) } : {}),
    ...(policies === null ? {} : { policy_evaluations: policyEvaluations(state, record, policies) }),
  });
}

/** The token endpoint: the dependent token grant or the refresh token grant, by `grant_type`. */
async function token(state: FakeState, c: Context): Promise<Response> {
  const client = clientFrom(state, c.req.header('authorization') ?? '');
  if (client === undefined) return c.json({ error: 'invalid_client' }, 401);
  const form = new URLSearchParams(await c.req.text());
  const grantType = form.get('grant_type');
  if (grantType === DEPENDENT_TOKEN_GRANT) return grantDependentTokens(state, c, client, form);
  if (grantType === 'refresh_token') return refreshGrant(state, c, client, form);
  return c.json({ error: 'unsupported_grant_type' }, 400);
}

/**
 * The dependent token grant: one token per resource server, as Globus answers it; with
 * `access_type=offline`, each with a refresh token.
 */
function grantDependentTokens(state: FakeState, c: Context, client: FakeClient, form: URLSearchParams): Response {
  const record = liveToken(state, form.get('token') ?? undefined);
  if (record === undefined) return c.json({ error: 'invalid_grant' }, 400);
  if (record.unconsented.length > 0) {
    return c.json(
      {
        error: DEPENDENT_CONSENT_REQUIRED,
        error_description: 'Dependent consent required',
        errors: [{ code: 'DEPENDENT_CONSENT_REQUIRED', unapproved_scopes: record.unconsented }],
      },
      403,
    );
  }
  const offline = form.get('access_type') === 'offline';
  const byServer = new Map<string, string[]>();
  for (const scope of record.dependentScopes) {
    const rs = resourceServer(scope);
    byServer.set(rs, [...(byServer.get(rs) ?? []), scope]);
  }
  return c.json(
    [...byServer].map(([rs, scopes]) => {
      const accessToken = randomToken();
      state.tokens.set(accessToken, {
        ...record,
        scopes,
        dependentScopes: [],
        unconsented: [],
        expiresAt: state.clock() + record.dependentExpiresIn * 1000,
      });
      const answer = {
        access_token: accessToken,
        resource_server: rs,
        scope: scopes.join(' '),
        expires_in: record.dependentExpiresIn,
        token_type: 'bearer',
      };
      if (!offline) return answer;
      const refreshToken = randomToken();
      state.refreshTokens.set(refreshToken, {
        user: record.user,
        clientId: client.id,
        resourceServer: rs,
        scopes,
        active: true,
        expiresIn: record.dependentExpiresIn,
      });
      return { ...answer, refresh_token: refreshToken };
    }),
  );
}

/** The refresh token grant: a new access token, and (rotating) a new refresh token replacing the old. */
function refreshGrant(state: FakeState, c: Context, client: FakeClient, form: URLSearchParams): Response {
  const used = form.get('refresh_token') ?? '';
  const record = state.refreshTokens.get(used);
  if (record === undefined || !record.active || record.clientId !== client.id) {
    return c.json({ error: 'invalid_grant', error_description: 'Invalid refresh token' }, 400);
  }
  const accessToken = issueAccessToken(state, {
    user: record.user,
    clientId: client.id,
    scopes: record.scopes,
    expiresIn: record.expiresIn,
  });
  let refreshToken = used;
  if (state.rotateRefreshTokens) {
    record.active = false;
    refreshToken = randomToken();
    state.refreshTokens.set(refreshToken, { ...record, active: true });
  }
  return c.json({
    access_token: accessToken,
    refresh_token: refreshToken,
    resource_server: record.resourceServer,
    scope: record.scopes.join(' '),
    expires_in: record.expiresIn,
    token_type: 'bearer',
    other_tokens: [],
  });
}

/** Revocation (RFC 7009): an access or refresh token stops working; an unknown one is answered the same. */
async function revoke(state: FakeState, c: Context): Promise<Response> {
  if (clientFrom(state, c.req.header('authorization') ?? '') === undefined)
    return c.json({ error: 'invalid_client' }, 401);
  const token = new URLSearchParams(await c.req.text()).get('token') ?? '';
  const access = state.tokens.get(token);
  if (access !== undefined) access.active = false;
  const refresh = state.refreshTokens.get(token);
  if (refresh !== undefined) refresh.active = false;
  return c.json({ active: false });
}

function myGroups(state: FakeState, c: Context): Response {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  const record = liveToken(state, token);
  if (record === undefined || !record.scopes.includes(GROUPS_SCOPE)) {
    return c.json({ code: 'AUTHENTICATION_ERROR', description: 'Invalid or missing token' }, 401);
  }
  const user = state.users.get(record.user);
  return c.json(
    (user?.groups ?? []).map((id) => ({
      id,
      name: `Group ${id.slice(0, 8)}`,
      parent_id: null,
      group_type: 'regular',
      enforce_session: false,
      session_limit: 28800,
      session_timeouts: {},
      my_memberships: [
        {
          group_id: id,
          identity_id: record.user,
          username: user?.username ?? `${record.user}@example.org`,
          role: 'member',
          status: 'active',
        },
      ],
      policies: { group_visibility: 'private', group_members_visibility: 'managers' },
    })),
  );
}

/**
 * The fake's app over `state`: token introspection, the token endpoint (dependent and refresh
 * grants), revocation and my_groups.
 *
 * @example
 * ```ts
 * const app = fakeGlobusApp(fakeState({ users: [{ id: ALICE }] }))
 * ```
 */
export function fakeGlobusApp(state: FakeState): Hono {
  const app = new Hono();
  // Hono turns a thrown error into a 500 answer; a reset must instead reject the injected fetch.
  app.onError((error, c) => {
    if (error instanceof ConnectionReset) throw error;
    return c.json({ error: 'server_error', error_description: error.message }, 500);
  });
  app.post(INTROSPECT_PATH, (c) =>
    counted(state, 'introspect', async () => (await intercept(state, 'introspect', c)) ?? introspect(state, c)),
  );
  app.post(TOKEN_PATH, (c) =>
    counted(state, 'token', async () => (await intercept(state, 'token', c)) ?? token(state, c)),
  );
  app.post(REVOKE_PATH, async (c) => (await intercept(state, 'revoke', c)) ?? revoke(state, c));
  app.get(MY_GROUPS_PATH, (c) =>
    counted(state, 'groups', async () => (await intercept(state, 'groups', c)) ?? myGroups(state, c)),
  );
  return app;
}
