/** @module auth/types: the Authenticator interface and the Caller it produces. */
import type { Awaitable } from '../awaitable.ts';

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
}
