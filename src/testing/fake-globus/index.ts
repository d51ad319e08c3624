/**
 * @module testing/fake-globus: a fake Globus Auth and Groups that speak the real wire format
 * (token introspection with HTTP Basic client auth, the dependent token grant, online or offline,
 * the refresh token grant, optionally rotating, revocation, my_groups), for
 * testing providers without the network. Use it as an injected `fetch`, or serve its `app` on a
 * real port with `listen` from `globus-action-provider/testing/node`.
 */
import { fakeGlobusApp } from './app.ts';
import { addLogin } from './sessions.ts';
import { fakeState, issueToken } from './state.ts';
import { injectedFetch } from './transport.ts';
import type { FakeGlobus, FakeGlobusOptions } from './types.ts';

export type {
  FakeClient,
  FakeEndpoint,
  FakeFailure,
  FakeGlobus,
  FakeGlobusCalls,
  FakeGlobusOptions,
  FakeLogin,
  FakePolicy,
  FakeUser,
  IssueTokenOptions,
} from './types.ts';

const FAKE_BASE = 'https://globus.fake';

/**
 * Create a fake Globus.
 *
 * @example
 * ```ts
 * const globus = fakeGlobus({ users: [{ id: ALICE, groups: [LAB] }] })
 * const auth = globusAuth(globus.authOptions())
 * const token = globus.issueToken({ user: ALICE, scopes: [PROVIDER_SCOPE] })
 * ```
 */
export function fakeGlobus(options: FakeGlobusOptions = {}): FakeGlobus {
  const state = fakeState(options);
  const { client: firstClient, clients, calls, outstanding, peak, failures } = state;
  const app = fakeGlobusApp(state);
  const fakeFetch = injectedFetch(app);
  return {
    client: firstClient,
    clients,
    calls,
    outstanding,
    peak,
    fetch: fakeFetch,
    app,
    addUser(user) {
      state.users.set(user.id, user);
    },
    issueToken: (o) => issueToken(state, o),
    revoke(token) {
      const record = state.tokens.get(token);
      if (record) record.active = false;
      const refresh = state.refreshTokens.get(token);
      if (refresh) refresh.active = false;
    },
    consent(user, scopes) {
      for (const record of state.tokens.values()) {
        if (record.user !== user) continue;
        record.unconsented = scopes === undefined ? [] : record.unconsented.filter((s) => !scopes.includes(s));
      }
    },
    login(user, login = {}) {
      const sessions = new Set([...state.tokens.values()].filter((r) => r.user === user).map((r) => r.session));
      for (const session of sessions) addLogin(state, session, { identity: user, ...login });
    },
    addPolicy(policy) {
      state.policies.set(policy.id, policy);
    },
    liveRefreshTokens: () => [...state.refreshTokens].filter(([, r]) => r.active).map(([token]) => token),
    get revocations() {
      return state.revocations;
    },
    fail(endpoint, failure) {
      failures.set(endpoint, { ...failure, left: failure.times ?? Number.POSITIVE_INFINITY });
    },
    clearFailures() {
      failures.clear();
    },
    resetCalls() {
      calls.introspect = 0;
      calls.token = 0;
      calls.groups = 0;
      state.revocations = 0;
      peak.introspect = outstanding.introspect;
      peak.token = outstanding.token;
      peak.groups = outstanding.groups;
    },
    authOptions(baseUrl) {
      const credentials = { clientId: firstClient.id, clientSecret: firstClient.secret };
      return baseUrl === undefined
        ? { ...credentials, authUrl: FAKE_BASE, groupsUrl: FAKE_BASE, fetch: fakeFetch }
        : { ...credentials, authUrl: baseUrl, groupsUrl: baseUrl };
    },
  };
}
