/** @module testing/fake-globus/types: the fake Globus's options, its users and tokens, and its API. */
import type { Hono } from 'hono';

export interface FakeClient {
  id: string;
  secret: string;
}

export interface FakeUser {
  /** Identity id (a UUID). */
  id: string;
  /** Linked identity ids; with `id`, they form the token's `identity_set`. */
  linked?: string[];
  /** Ids of the groups this user belongs to. */
  groups?: string[];
  username?: string;
  name?: string;
  email?: string;
}

export interface FakeGlobusOptions {
  /** Clients allowed to introspect (the providers under test). Default: one random client. */
  clients?: FakeClient[];
  users?: FakeUser[];
  /** Milliseconds added before every answer. */
  latency?: number;
  /**
   * Milliseconds since the epoch, for `exp`/`iat` and every token's expiry; injectable, so a
   * test moves time (and expires access tokens) by hand.
   */
  clock?: () => number;
  /**
   * Rotate refresh tokens, as a Globus Auth client may be configured to: each refresh answers a
   * new refresh token and the one used stops working. Default false.
   */
  rotateRefreshTokens?: boolean;
  /** Globus authentication policies introspection can evaluate (`authentication_policies`). */
  policies?: FakePolicy[];
}

/** A login in a Globus session. */
export interface FakeLogin {
  /** The identity id that logged in (the token's user, or one linked to it). */
  identity: string;
  /** A multi-factor login. Default false. */
  mfa?: boolean;
  /** When, in ms since the epoch, on the fake's clock. Default now. */
  time?: number;
  /** The identity provider's id. */
  idp?: string;
}

/**
 * A Globus authentication policy, with the fields of Globus's policy documents that the fake
 * evaluates: a session satisfies it when one of its logins is from an allowed domain, with MFA if
 * `required_mfa`, and (when `high_assurance`) no older than `authentication_assurance_timeout` s.
 */
export interface FakePolicy {
  id: string;
  high_assurance?: boolean;
  authentication_assurance_timeout?: number;
  required_mfa?: boolean;
  domain_constraints_include?: string[];
  domain_constraints_exclude?: string[];
}

export interface IssueTokenOptions {
  /** The user's identity id (must be one of `users`, or is added on the fly). */
  user: string;
  /** Scopes the token grants. */
  scopes: string[];
  /** False for a token introspection reports as inactive. Default true. */
  active?: boolean;
  /** Lifetime in seconds. Default 3600. */
  expiresIn?: number;
  /** Scopes the dependent token grant answers with. Default: the Groups scope. */
  dependentScopes?: string[];
  /** Scopes the user has not consented to: the dependent grant answers 403 dependent_consent_required. */
  unconsented?: string[];
  /** The client the token was issued to (`client_id`). */
  clientId?: string;
  /**
   * Lifetime of the dependent tokens the grant answers with, in seconds (and of those a refresh
   * of them answers). Default 172,800 (48 h).
   */
  dependentExpiresIn?: number;
  /**
   * The logins of the token's session (`include=session_info`). Default: one login of `user`
   * now, without MFA. The tokens the dependent grant answers share it.
   */
  session?: FakeLogin[];
}

/** An endpoint whose answers can be made to fail (`fail`); `token` is the dependent and refresh grants. */
export type FakeEndpoint = 'introspect' | 'token' | 'groups' | 'revoke';

export interface FakeFailure {
  /** Answer with this status (and `body`, default an error JSON). */
  status?: number;
  /** Answer with this raw body (e.g. not JSON). */
  body?: string;
  /** Wait this long first (ms). */
  delay?: number;
  /** Drop the connection without answering. */
  reset?: boolean;
  /** How many calls fail; default every call until `clearFailures()`. */
  times?: number;
}

/** Calls per endpoint (revocations are counted apart, in `revocations`). */
export interface FakeGlobusCalls {
  introspect: number;
  token: number;
  groups: number;
}

export interface FakeGlobus {
  /** The first client; give its credentials to `globusAuth`. */
  readonly client: FakeClient;
  readonly clients: readonly FakeClient[];
  /** Calls received per endpoint (each attempt counts). */
  readonly calls: FakeGlobusCalls;
  /** Calls being answered right now, per endpoint (a call counts until its answer is sent or it fails). */
  readonly outstanding: FakeGlobusCalls;
  /** The most calls outstanding at once per endpoint, since creation or `resetCalls()`. */
  readonly peak: FakeGlobusCalls;
  /** A fetch that answers Globus Auth and Groups requests whatever the host. */
  readonly fetch: typeof fetch;
  /**
   * The Hono app behind it: mount it, or serve it on a real port with `listen(globus.app)` from
   * `globus-action-provider/testing/node` (Auth and Groups share the base URL).
   */
  readonly app: Hono;
  addUser(user: FakeUser): void;
  /** A new opaque access token. */
  issueToken(options: IssueTokenOptions): string;
  /** Make a token inactive: an access token, or a refresh token (its next refresh is refused). */
  revoke(token: string): void;
  /**
   * The user consents later, in the middle of a test: `scopes` (default all) are no longer
   * refused to the tokens already issued to `user` (the dependent grant then answers them).
   */
  consent(user: string, scopes?: readonly string[]): void;
  /**
   * The user logs in again, in the middle of a test (with an institutional identity, with MFA):
   * the login joins the session of every token already issued to `user` (an identity logging in
   * again replaces its earlier login), as Globus's session of a browser does.
   */
  login(user: string, login?: Partial<FakeLogin>): void;
  /** Add (or replace) an authentication policy. */
  addPolicy(policy: FakePolicy): void;
  /**
   * The refresh tokens the fake has issued (the dependent grant with `access_type=offline`, or
   * a rotating refresh) that still work: neither revoked nor rotated away.
   */
  liveRefreshTokens(): string[];
  /** Calls received by the revocation endpoint (each attempt counts). */
  readonly revocations: number;
  fail(endpoint: FakeEndpoint, failure: FakeFailure): void;
  clearFailures(): void;
  /** Zero `calls` and `peak` (what is outstanding stays counted). */
  resetCalls(): void;
  /** `globusAuth` options pointing at `baseUrl` (or at the injected fetch when omitted). */
  authOptions(baseUrl?: string): {
    clientId: string;
    clientSecret: string;
    authUrl: string;
    groupsUrl: string;
    fetch?: typeof fetch;
  };
}
