/**
 * @module testing/fake-globus/state: what one fake Globus knows (clients, users, issued tokens,
 * injected failures, call counts) and the questions its endpoints ask of it.
 */
import { GROUPS_SCOPE } from '../../auth/globus/environments.ts';
import { type FakeSession, newSession } from './sessions.ts';
import type {
  FakeClient,
  FakeEndpoint,
  FakeFailure,
  FakeGlobusCalls,
  FakeGlobusOptions,
  FakePolicy,
  FakeUser,
  IssueTokenOptions,
} from './types.ts';

/** An issued token, as the fake remembers it (keyed by the token itself: this is a test double). */
export interface TokenRecord {
  user: string;
  scopes: string[];
  active: boolean;
  expiresAt: number;
  dependentScopes: string[];
  unconsented: string[];
  clientId: string;
  dependentExpiresIn: number;
  /** The session the token belongs to (shared with the tokens granted from it). */
  session: FakeSession;
}

/** An issued refresh token: whose, for which client, and what a refresh of it answers. */
export interface RefreshRecord {
  user: string;
  /** The client the dependent grant was made by: only it may refresh. */
  clientId: string;
  resourceServer: string;
  scopes: string[];
  active: boolean;
  /** Lifetime of the access tokens a refresh answers, in seconds. */
  expiresIn: number;
}

export interface FakeState {
  /** The first of `clients`, the one `authOptions()` names. */
  readonly client: FakeClient;
  readonly clients: readonly FakeClient[];
  readonly users: Map<string, FakeUser>;
  readonly tokens: Map<string, TokenRecord>;
  readonly refreshTokens: Map<string, RefreshRecord>;
  readonly rotateRefreshTokens: boolean;
  /** Calls to the revocation endpoint. */
  revocations: number;
  readonly failures: Map<FakeEndpoint, FakeFailure & { left: number }>;
  readonly calls: FakeGlobusCalls;
  readonly outstanding: FakeGlobusCalls;
  readonly peak: FakeGlobusCalls;
  readonly latency: number | undefined;
  readonly clock: () => number;
  readonly policies: Map<string, FakePolicy>;
}

/** An opaque, URL-safe random token (or client secret). */
export const randomToken = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''));
};

/** A fresh state from the options: one random client unless some are given. */
export function fakeState(options: FakeGlobusOptions): FakeState {
  const clients = options.clients ?? [{ id: crypto.randomUUID(), secret: randomToken() }];
  const client = clients[0];
  if (client === undefined) throw new TypeError('fakeGlobus: at least one client is needed');
  const users = new Map<string, FakeUser>();
  for (const user of options.users ?? []) users.set(user.id, user);
  return {
    client,
    clients,
    users,
    tokens: new Map(),
    refreshTokens: new Map(),
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    revocations: 0,
    failures: new Map(),
    calls: { introspect: 0, token: 0, groups: 0 },
    outstanding: { introspect: 0, token: 0, groups: 0 },
    peak: { introspect: 0, token: 0, groups: 0 },
    latency: options.latency,
    clock: options.clock ?? Date.now,
    policies: new Map((options.policies ?? []).map((policy) => [policy.id, policy])),
  };
}

/** The client whose HTTP Basic credentials `authorization` carries, if they are right. */
export function clientFrom(state: FakeState, authorization: string): FakeClient | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return state.clients.find((client) => client.id === id && client.secret === secret);
}

/** Linked identities share one set, whichever of them the token belongs to (as in Globus). */
export function identitySet(state: FakeState, id: string): string[] {
  for (const user of state.users.values()) {
    if (user.linked?.length && (user.id === id || user.linked.includes(id))) return [user.id, ...user.linked];
  }
  return [id];
}

/** The token's record while it is active and unexpired. */
export function liveToken(state: FakeState, token: string | undefined): TokenRecord | undefined {
  const record = token === undefined ? undefined : state.tokens.get(token);
  return record?.active && record.expiresAt > state.clock() ? record : undefined;
}

/** Issues a new opaque token; an unknown user is added on the fly. */
export function issueToken(state: FakeState, o: IssueTokenOptions): string {
  if (!state.users.has(o.user)) state.users.set(o.user, { id: o.user });
  const token = randomToken();
  state.tokens.set(token, {
    user: o.user,
    scopes: o.scopes,
    active: o.active ?? true,
    expiresAt: state.clock() + (o.expiresIn ?? 3600) * 1000,
    dependentScopes: o.dependentScopes ?? [GROUPS_SCOPE],
    unconsented: o.unconsented ?? [],
    clientId: o.clientId ?? 'flows-client-id',
    dependentExpiresIn: o.dependentExpiresIn ?? 172_800,
    session: newSession(state, o.user, o.session),
  });
  return token;
}

/** A new access token for `user` holding `scopes`, issued to `clientId`, living `expiresIn` seconds. */
export function issueAccessToken(
  state: FakeState,
  grant: { user: string; clientId: string; scopes: string[]; expiresIn: number },
): string {
  const token = randomToken();
  state.tokens.set(token, {
    user: grant.user,
    scopes: grant.scopes,
    active: true,
    expiresAt: state.clock() + grant.expiresIn * 1000,
    dependentScopes: [],
    unconsented: [],
    clientId: grant.clientId,
    dependentExpiresIn: grant.expiresIn,
    session: newSession(state, grant.user, undefined),
  });
  return token;
}

/** The failure to apply to this call of `endpoint`, counting it down. */
export function takeFailure(state: FakeState, endpoint: FakeEndpoint): FakeFailure | undefined {
  const failure = state.failures.get(endpoint);
  if (failure !== undefined && --failure.left <= 0) state.failures.delete(endpoint);
  return failure;
}
