/**
 * @module auth/types: the Authenticator interface, the Caller it produces, and the optional
 * offline-token grants an authenticator may offer (tokens that outlive the request).
 */
import type { Awaitable } from '../awaitable.ts';
import type { AuthTelemetry } from '../observe/telemetry.ts';
import type { Session } from './session.ts';

/** Who is calling, as the authorization rules see them. */
export interface Caller {
  /** The effective identity, `urn:globus:auth:identity:<id>`. */
  readonly identity: string;
  /** Every linked identity URN, the effective one included. */
  readonly identities: readonly string[];
  /** The scopes the token grants. */
  readonly scopes: readonly string[];
  /** The bearer token. Kept out of `JSON.stringify` and `util.inspect`; never log it. */
  readonly token: string;
  /**
   * The caller's group URNs (`urn:globus:groups:id:<id>`), resolved on first use and memoised.
   * With `globusAuth`, a lookup draws on the request's `timeout` budget.
   */
  groups(): Promise<readonly string[]>;
  /**
   * An access token for a downstream scope, where the authenticator supports it. With
   * `globusAuth`, a call to Globus gets what is left of the request's `timeout` budget (time
   * spent waiting on Globus, not in callbacks); once it is spent, only a cached token is returned.
   */
  tokenFor(scope: string): Promise<string>;
  /**
   * Forget the dependent tokens cached for this token and fetch fresh ones (resume does, after
   * the user consented: Flows mints new tokens then). A missing consent is a ConsentRequiredError.
   * A no-op for authenticators without dependent tokens.
   */
  renewTokens?(): Promise<void>;
  /**
   * The caller's session (who logged in, when, whether with MFA) and Globus's evaluation of each
   * authentication policy in `policies`; what session requirements are checked against. Undefined
   * from an authenticator that knows no sessions (then no requirement is satisfied). With
   * `globusAuth`, it comes with the introspection when the provider has a `requireSession`
   * option, or from one more introspection (cached like the first) when only a callback asks.
   */
  session?(policies?: readonly string[]): Promise<Session | undefined>;
}

export interface AuthenticateInput {
  /** The bearer token, already extracted from `Authorization`. */
  readonly token: string;
  readonly request: Request;
}

/**
 * Turns a bearer token into a Caller, or throws `ActionError('UnauthorizedRequest', ...)`
 * (or `ServiceUnavailable` when an upstream it depends on is down). The core checks scopes
 * and authorizes; the authenticator only says who the caller is.
 */
export interface Authenticator {
  /** May answer synchronously (e.g. from a cache) or with a promise. */
  authenticate(input: AuthenticateInput): Awaitable<Caller>;
  /**
   * Tokens that outlive the request (dependent tokens with refresh tokens), for an authenticator
   * that can obtain them (`globusAuth`); what `keepTokens()` in `run` needs. Absent: it cannot.
   */
  readonly offline?: OfflineGrants;
  /**
   * Told once per provider, at its creation, that it checks sessions on many requests (it has a
   * `requireSession` option), and which authentication policies: an authenticator that can should
   * then fetch the session with the caller's identity, in the same call. Optional.
   */
  expectSessions?(policies: readonly string[]): void;
  /**
   * The base URL of the Globus Auth whose tokens it accepts (`globusAuth` sets it from its
   * `environment` or `authUrl`): where clients get tokens for the provider, as
   * `provider.openapi()` tells them. Absent: production Globus Auth.
   */
  readonly authUrl?: string;
  /**
   * Told once per provider with a `telemetry` option, at its creation, where to report its calls
   * (each to Globus: a span and its duration) and its token cache lookups. Optional.
   */
  instrument?(telemetry: AuthTelemetry): void;
  /**
   * Check the upstream it depends on (Globus Auth, a JWKS), for `provider.health()`: at most
   * every so often, so that a load balancer's probes do not become calls upstream, and concurrent
   * calls share one check. Resolves, never rejects. Optional: without it, auth passes.
   */
  health?(): Promise<AuthHealth>;
}

/** What `Authenticator.health()` found of its upstream. */
export interface AuthHealth {
  /** Whether the upstream (Globus Auth, the JWKS) answered. */
  reachable: boolean;
  /** Whether it accepted the provider's own credentials; absent where there are none (a JWKS). */
  credentials?: 'accepted' | 'rejected';
  /** When it was checked: ms since the epoch, on the authenticator's clock (a check is reused for a while). */
  checkedAt: number;
  /** Why not: an error or a short text; `provider.health()` shortens it and strips credentials. */
  error?: unknown;
}

/** A dependent token with its refresh token, as `OfflineGrants` hands them out. */
export interface OfflineToken {
  access_token: string;
  refresh_token: string;
  resource_server: string;
  /** Every scope the access token holds. */
  scopes: string[];
  /** When the access token expires: ms since the epoch, on `OfflineGrants.clock`. */
  expires_at: number;
}

/**
 * How an authenticator obtains, refreshes and revokes tokens that outlive the request. Every call
 * is made with the provider's own client credentials; none needs the caller to be present except
 * `grant`, which trades the caller's bearer token.
 */
export interface OfflineGrants {
  /**
   * The caller's dependent tokens, each with a refresh token (Globus: the dependent token grant
   * with `access_type=offline`). Rejects with `ConsentRequiredError` when a dependent scope lacks
   * the user's consent, `ServiceUnavailable` when the server cannot be reached.
   */
  grant(token: string): Promise<OfflineToken[]>;
  /**
   * A new access token for `token` (the `refresh_token` grant). Its `refresh_token` is the one to
   * keep from now on: a server that rotates refresh tokens answers a new one. Rejects with an
   * `UnauthorizedRequest` ActionError when the refresh token is refused (revoked, expired, consent
   * withdrawn), `ServiceUnavailable` when the server cannot be reached.
   */
  refresh(token: OfflineToken): Promise<OfflineToken>;
  /** Revoke an access or refresh token; resolves once the server has answered. */
  revoke(token: string): Promise<void>;
  /** Milliseconds since the epoch: the clock `expires_at` is measured on. */
  clock(): number;
}
