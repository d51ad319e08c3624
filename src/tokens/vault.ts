/**
 * @module tokens/vault: one provider's offline tokens: obtained through the authenticator's
 * offline grants, sealed with the `tokenKey` keyring and opened again, refreshed (one refresh at
 * a time per action and resource server), and revoked once no record holds them. It never
 * touches the store: operations/tokens.ts stores what it seals.
 */
import { ConsentRequiredError } from '../auth/consent.ts';
import type { Authenticator, OfflineGrants, OfflineToken } from '../auth/types.ts';
import { singleFlight, tokenHash } from '../cache.ts';
import { ActionError, isActionError } from '../http/errors.ts';
import { type Logger, logSafe } from '../logger.ts';
import { resolveTokenKeys, type TokenKeyOption } from './keys.ts';
import { openTokens, sealTokens, type TokenSet } from './seal.ts';

/** An access token this close to its expiry is refreshed first: it must outlast the call it is for. */
export const REFRESH_MARGIN = 5 * 60_000;
/** Revocation is best effort: it never holds an operation longer than this. */
export const REVOKE_TIMEOUT = 5_000;

/** A token set as stored: sealed, and what it holds. */
export interface Renewed {
  sealed: string;
  set: TokenSet;
}

export interface TokenVault {
  /**
   * The caller's offline tokens (those matching `scopes`, or every one granted when null),
   * sealed for `actionId`; those granted but not wanted are revoked at once. A scope granted no
   * token is a ConsentRequiredError naming it.
   */
  keep(token: string, actionId: string, scopes: readonly string[] | null): Promise<Renewed>;
  seal(actionId: string, set: TokenSet): Promise<string>;
  /** Rejects with a SealedTokensError when `sealed` does not open for `actionId`. */
  open(actionId: string, sealed: string): Promise<TokenSet>;
  /** True while `token`'s access token is good for at least REFRESH_MARGIN. */
  fresh(token: OfflineToken): boolean;
  /**
   * `token` refreshed. A refused refresh token is a ConsentRequiredError for its scopes (the user
   * must consent again, and resume); an unreachable Globus, a 503 ActionError.
   */
  refresh(token: OfflineToken): Promise<OfflineToken>;
  /** Concurrent refreshes of one key (an action and resource server) share one. */
  once(key: string, refresh: () => Promise<Renewed>): Promise<Renewed>;
  /**
   * Revoke what `before` holds and `after` (null: nothing) no longer needs (see `outgoing`):
   * best effort, within REVOKE_TIMEOUT; never rejects, failures are logged.
   */
  discard(actionId: string, before: string, after: string | null | undefined): Promise<void>;
  /** Revoke these access or refresh tokens: best effort, as `discard`. */
  revoke(actionId: string, tokens: readonly string[]): Promise<void>;
}

export interface TokenVaultOptions {
  tokenKey: TokenKeyOption | undefined;
  auth: Authenticator;
  logger: Logger;
}

/** The cause of a ConsentRequiredError for a refresh token Globus already refused here. */
export const REFUSED_BEFORE: Error = new Error('Globus Auth refused this refresh token before');
const MAX_REFUSED = 10_000;

/** Every secret of `tokens`: each refresh token and access token. */
const pairs = (tokens: readonly OfflineToken[]): string[] => tokens.flatMap((t) => [t.refresh_token, t.access_token]);

/**
 * What to revoke when the set `before` is replaced by `after`: a refresh token `after` no longer
 * holds (the set dropped, renewed, or rotated); and the access token too when `after` has none
 * for its resource server. An access token replaced by a refresh is left to expire (within
 * minutes): another caller may be using it this very moment.
 */
export function outgoing(before: readonly OfflineToken[], after: readonly OfflineToken[]): string[] {
  const refreshTokens = new Set(after.map((t) => t.refresh_token));
  const servers = new Set(after.map((t) => t.resource_server));
  return before.flatMap((t) => {
    if (refreshTokens.has(t.refresh_token)) return [];
    return servers.has(t.resource_server) ? [t.refresh_token] : [t.refresh_token, t.access_token];
  });
}

/** Whether `token` is the one asked for by `scope`: a scope it holds, or its resource server. */
export const matches = (token: OfflineToken, scope: string): boolean =>
  token.scopes.includes(scope) || token.resource_server === scope;

/**
 * The vault of a provider with a `tokenKey`, or undefined without one. Throws a TypeError
 * naming a bad key, at creation.
 *
 * @example
 * ```ts
 * const vault = tokenVault({ tokenKey: env.TOKEN_KEY, auth, logger })
 * ```
 */
export function tokenVault(options: TokenVaultOptions): TokenVault | undefined {
  const keys = resolveTokenKeys(options.tokenKey);
  if (keys === undefined) return undefined;
  const { auth, logger } = options;
  const grants = (): OfflineGrants => {
    if (auth.offline === undefined) {
      throw new ActionError(
        'NotImplemented',
        'This provider cannot keep tokens: its authenticator cannot obtain refreshable tokens (globusAuth can)',
      );
    }
    return auth.offline;
  };
  const now = () => auth.offline?.clock() ?? Date.now();
  /**
   * Refresh tokens Globus refused, by hash: asked again (a status callback polled by a monitor,
   * say), the answer is the same ConsentRequiredError without another call to Globus or another
   * log line. Bounded; the oldest are forgotten first.
   */
  const refused = new Set<string>();

  const revokeAll = async (actionId: string, tokens: readonly string[]): Promise<void> => {
    if (tokens.length === 0 || auth.offline === undefined) return;
    const { revoke } = auth.offline;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), REVOKE_TIMEOUT);
    });
    const all = Promise.allSettled(tokens.map((token) => revoke(token)));
    const outcome = await Promise.race([all, late]).finally(() => clearTimeout(timer));
    const failed = outcome === 'late' ? [] : outcome.filter((r) => r.status === 'rejected');
    if (outcome === 'late' || failed.length > 0) {
      // The tokens themselves are never logged; they expire on their own (refresh tokens after months unused).
      logger.warn('kept tokens could not all be revoked', {
        action_id: actionId,
        tokens: tokens.length,
        ...(outcome === 'late'
          ? { timeout_ms: REVOKE_TIMEOUT }
          : { failed: failed.length, error: logSafe((failed[0] as PromiseRejectedResult).reason) }),
      });
    }
  };
  const revoke = (actionId: string, tokens: readonly OfflineToken[]) => revokeAll(actionId, pairs(tokens));

  const seal = (actionId: string, set: TokenSet) => sealTokens(keys, actionId, set);
  const open = (actionId: string, sealed: string) => openTokens(keys, actionId, sealed);

  return {
    async keep(token, actionId, scopes) {
      const granted = await grants().grant(token);
      let kept = granted;
      if (scopes !== null) {
        const missing = scopes.filter((scope) => !granted.some((t) => matches(t, scope)));
        if (missing.length > 0) {
          await revoke(actionId, granted);
          throw new ConsentRequiredError(missing);
        }
        kept = granted.filter((t) => scopes.some((scope) => matches(t, scope)));
        await revoke(
          actionId,
          granted.filter((t) => !kept.includes(t)),
        );
      }
      const set: TokenSet = { scopes: scopes === null ? null : [...scopes], tokens: kept };
      return { sealed: await seal(actionId, set), set };
    },
    seal,
    open,
    fresh: (token) => token.expires_at - now() > REFRESH_MARGIN,
    async refresh(token) {
      const scopes = token.scopes.length > 0 ? token.scopes : [token.resource_server];
      const key = await tokenHash(token.refresh_token);
      if (refused.has(key)) throw new ConsentRequiredError(scopes, { cause: REFUSED_BEFORE });
      try {
        return await grants().refresh(token);
      } catch (error) {
        if (isActionError(error) && error.code === 'UnauthorizedRequest') {
          refused.add(key);
          if (refused.size > MAX_REFUSED) refused.delete(refused.values().next().value as string);
          throw new ConsentRequiredError(scopes, { cause: error });
        }
        throw error;
      }
    },
    once: singleFlight<Renewed>(),
    async discard(actionId, before, after) {
      try {
        const old = await open(actionId, before);
        const next = after == null ? [] : (await open(actionId, after)).tokens;
        await revokeAll(actionId, outgoing(old.tokens, next));
      } catch (error) {
        logger.warn('kept tokens could not be revoked: they do not open', {
          action_id: actionId,
          error: logSafe(error),
        });
      }
    },
    revoke: revokeAll,
  };
}
