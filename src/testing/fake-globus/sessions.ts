/**
 * @module testing/fake-globus/sessions: the fake's Globus sessions (who logged in, when, with
 * MFA or not) and authentication policies, as introspection reports them with
 * `include=session_info,identity_set_detail` and `authentication_policies`.
 */
import type { FakeState, TokenRecord } from './state.ts';
import type { FakeLogin, FakePolicy } from './types.ts';

/** A session: its id and each identity's latest login. Tokens of one login share it. */
export interface FakeSession {
  id: string;
  logins: Map<string, { mfa: boolean; time: number; idp: string }>;
}

/** The identity provider every fake identity logs in with, unless a login names another. */
export const FAKE_IDP = '8f1f9d6b-0000-4000-8000-00000000f1d9';

/** A new session for `user`: the given logins, or one login of `user` now, without MFA. */
export function newSession(state: FakeState, user: string, logins: readonly FakeLogin[] | undefined): FakeSession {
  const session: FakeSession = { id: crypto.randomUUID(), logins: new Map() };
  for (const login of logins ?? [{ identity: user }]) addLogin(state, session, login);
  return session;
}

/** A login into `session` (a new identity, or the same one again: its latest login counts). */
export function addLogin(state: FakeState, session: FakeSession, login: FakeLogin): void {
  session.logins.set(login.identity, {
    mfa: login.mfa ?? false,
    time: login.time ?? state.clock(),
    idp: login.idp ?? FAKE_IDP,
  });
}

export const usernameOf = (state: FakeState, id: string): string =>
  state.users.get(id)?.username ?? `${id}@example.org`;

/** `identity_set_detail`: one identity record per linked identity. */
export function identitySetDetail(state: FakeState, ids: readonly string[]) {
  return ids.map((id) => {
    const user = state.users.get(id);
    return {
      id,
      username: usernameOf(state, id),
      name: user?.name ?? 'Fake User',
      email: user?.email ?? `${id}@example.org`,
      organization: null,
      identity_provider: FAKE_IDP,
      identity_type: 'login',
      status: 'used',
    };
  });
}

/** `session_info`, as introspection answers it: auth_time in seconds, `amr` listing `mfa` for an MFA login. */
export function sessionInfo(record: TokenRecord) {
  const authentications: Record<string, { idp: string; auth_time: number; amr: string[] }> = {};
  for (const [id, login] of record.session.logins) {
    authentications[id] = {
      idp: login.idp,
      auth_time: Math.floor(login.time / 1000),
      amr: login.mfa ? ['pwd', 'mfa'] : ['pwd'],
    };
  }
  return { session_id: record.session.id, authentications };
}

/**
 * Whether one login of the session satisfies `policy`: its identity's domain allowed (and not
 * excluded), MFA when required, and, for a high-assurance policy, a login within
 * `authentication_assurance_timeout` seconds. An approximation of Globus's evaluation, enough to
 * test a provider's handling of it.
 */
export function satisfies(state: FakeState, record: TokenRecord, policy: FakePolicy): boolean {
  const now = state.clock();
  for (const [id, login] of record.session.logins) {
    const domain = usernameOf(state, id).split('@').pop()?.toLowerCase() ?? '';
    if (policy.domain_constraints_include && !policy.domain_constraints_include.includes(domain)) continue;
    if (policy.domain_constraints_exclude?.includes(domain)) continue;
    if (policy.required_mfa && !login.mfa) continue;
    const timeout = policy.authentication_assurance_timeout;
    if (policy.high_assurance && timeout !== undefined && now - login.time > timeout * 1000) continue;
    return true;
  }
  return false;
}

/** `policy_evaluations` for the comma-joined `authentication_policies` field; an unknown policy evaluates false. */
export function policyEvaluations(state: FakeState, record: TokenRecord, field: string) {
  const evaluations: Record<string, { evaluation: boolean }> = {};
  for (const id of field.split(',').filter(Boolean)) {
    const policy = state.policies.get(id);
    evaluations[id] = { evaluation: policy !== undefined && satisfies(state, record, policy) };
  }
  return evaluations;
}
