/**
 * @module operations/tokens: the offline tokens an action keeps, as callbacks reach them:
 * `keepTokens` in `run` (stored with run's answer), `keptToken` in `work` and in the callbacks on
 * an existing action (refreshed when about to expire, the refreshed set stored with the version
 * check, so a restart or another instance finds it), renewed when the creator resumes an
 * INACTIVE action, and revoked once no record holds them (kernel's `mutate` sees to completions).
 */
import { ConsentRequiredError, isConsentRequired } from '../auth/consent.ts';
import type { Caller, OfflineToken } from '../auth/types.ts';
import { ActionError, isActionError } from '../http/errors.ts';
import { isCompleted } from '../lifecycle.ts';
import { logSafe } from '../logger.ts';
import type { ActionRecord } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { SealedTokensError, type TokenSet } from '../tokens/seal.ts';
import { REFUSED_BEFORE, type Renewed, type TokenVault } from '../tokens/vault.ts';
import { load, mutate } from './kernel.ts';

/** More scopes than this in one `keepTokens` is a mistake (a provider has a handful of dependent scopes). */
const MAX_SCOPES = 100;

function vaultOf(config: ProviderConfig, what: string): TokenVault {
  if (config.tokens === undefined) {
    throw new Error(
      `${what}: this provider has no tokenKey, the secret kept tokens are sealed with (see createActionProvider's tokenKey option)`,
    );
  }
  return config.tokens;
}

function checkScopes(scopes: unknown): readonly string[] | null {
  if (scopes === undefined) return null;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    scopes.length > MAX_SCOPES ||
    !scopes.every((s) => typeof s === 'string' && s !== '')
  ) {
    throw new TypeError(
      `keepTokens: scopes must be a list of 1 to ${MAX_SCOPES} scope strings, or omitted for every one`,
    );
  }
  return [...new Set(scopes as string[])];
}

/** What `run` kept, while it runs: `keepTokens` for its context, `sealed` for what start() stores. */
export interface Keeping {
  keepTokens(scopes?: readonly string[]): Promise<string[]>;
  /** The last set kept, sealed; undefined when `keepTokens` was not called. */
  readonly sealed: string | undefined;
}

/**
 * `keepTokens` for one run. A missing consent keeps what was asked for (no tokens yet) before
 * it propagates: the action goes INACTIVE, and a resume by its creator asks for them again.
 */
export function keeping(config: ProviderConfig, caller: Caller, actionId: string): Keeping {
  let sealed: string | undefined;
  const replace = async (next: string) => {
    const previous = sealed;
    sealed = next;
    if (previous !== undefined) await config.tokens?.discard(actionId, previous, null);
  };
  return {
    get sealed() {
      return sealed;
    },
    async keepTokens(scopes) {
      const wanted = checkScopes(scopes);
      const vault = vaultOf(config, 'keepTokens');
      try {
        const kept = await vault.keep(caller.token, actionId, wanted);
        await replace(kept.sealed);
        return [...new Set(kept.set.tokens.flatMap((t) => t.scopes))];
      } catch (error) {
        if (isConsentRequired(error)) {
          await replace(await vault.seal(actionId, { scopes: wanted === null ? null : [...wanted], tokens: [] }));
        }
        throw error;
      }
    },
  };
}

/** Revoke `sealed` unless `stored` holds it: tokens kept (or renewed) for an answer that was not stored as such. */
export async function dropUnstored(
  config: ProviderConfig,
  actionId: string,
  sealed: string | undefined,
  stored: ActionRecord | undefined,
): Promise<void> {
  if (sealed !== undefined && stored?.offline_tokens !== sealed) await config.tokens?.discard(actionId, sealed, null);
}

/**
 * `latest` with run's kept tokens added: for a run whose answer lost to a write made while it
 * ran (`provider.actions.update` from elsewhere). A completed action gets none (they are revoked).
 */
export async function attachKept(config: ProviderConfig, latest: ActionRecord, sealed: string): Promise<ActionRecord> {
  const stored = await mutate(config, latest, async (current) =>
    (current.offline_tokens ?? null) === null && !isCompleted(current.status)
      ? { status: current.status, offline_tokens: sealed }
      : undefined,
  );
  await dropUnstored(config, latest.action_id, sealed, stored);
  return stored;
}

/**
 * New tokens for an INACTIVE action that keeps some, when its creator resumes it: the request
 * brings a fresh token, and the action may be INACTIVE precisely because its kept ones were
 * refused. Asks for what `keepTokens` asked for (every scope when that cannot be read any more).
 * Undefined when there is nothing to renew; a missing consent is a ConsentRequiredError.
 */
export async function renewOnResume(
  config: ProviderConfig,
  caller: Caller,
  record: ActionRecord,
): Promise<string | undefined> {
  const vault = config.tokens;
  const before = record.offline_tokens;
  // Only the creator: tokens of anyone else would make the action act as someone it does not belong to.
  if (vault === undefined || before == null || config.auth.offline === undefined) return undefined;
  if (record.status !== 'INACTIVE' || caller.identity !== record.creator_id) return undefined;
  let scopes: readonly string[] | null = null;
  try {
    scopes = (await vault.open(record.action_id, before)).scopes;
  } catch (error) {
    if (!(error instanceof SealedTokensError)) throw error;
  }
  return (await vault.keep(caller.token, record.action_id, scopes)).sealed;
}

/** The set `sealed` holds; one that does not open (tampered, key rotated out) asks for consent again. */
async function opened(
  config: ProviderConfig,
  vault: TokenVault,
  actionId: string,
  sealed: string,
  scope: string,
): Promise<TokenSet> {
  try {
    return await vault.open(actionId, sealed);
  } catch (error) {
    if (!(error instanceof SealedTokensError)) throw error;
    config.logger.error('the kept tokens of an action do not open; it will ask the user to consent again', {
      action_id: actionId,
      reason: error.reason,
      error: logSafe(error),
    });
    throw new ConsentRequiredError([scope], { cause: error });
  }
}

/** The kept token for `scope` (one of its scopes, or its resource server). */
function pick(set: TokenSet, scope: string): OfflineToken {
  const found = set.tokens.find((t) => t.scopes.includes(scope)) ?? set.tokens.find((t) => t.resource_server === scope);
  if (found !== undefined) return found;
  if (set.scopes !== null && !set.scopes.includes(scope)) {
    // The provider's own mistake, not the user's: asking the user to consent would not help.
    throw new Error(`keptToken: no token was kept for ${scope}; keepTokens asked for ${set.scopes.join(', ')}`);
  }
  throw new ConsentRequiredError([scope]);
}

const replaced = (set: TokenSet, old: OfflineToken, fresh: OfflineToken): TokenSet => ({
  scopes: set.scopes,
  tokens: set.tokens.map((t) => (t === old ? fresh : t)),
});

/** What a refresh minted that the set it came from did not hold (the refresh token too, when rotated). */
const minted = (fresh: OfflineToken, old: OfflineToken): string[] =>
  fresh.refresh_token === old.refresh_token ? [fresh.access_token] : [fresh.access_token, fresh.refresh_token];

/** How long a refused refresh waits for one made elsewhere at the same time to be stored. */
const ELSEWHERE_POLLS = 5;
const ELSEWHERE_POLL_MS = 100;

/**
 * The stored set, once it holds another refresh token for `used`'s resource server with a fresh
 * access token: a refresh made elsewhere with the same refresh token, stored (or about to be).
 * Undefined when none appears within a few polls.
 */
async function refreshedElsewhere(
  config: ProviderConfig,
  vault: TokenVault,
  actionId: string,
  used: OfflineToken,
): Promise<Renewed | undefined> {
  for (let poll = 0; poll < ELSEWHERE_POLLS; poll++) {
    const sealed = (await load(config, actionId))?.offline_tokens;
    if (sealed == null) return undefined;
    const set = await vault.open(actionId, sealed).catch(() => undefined);
    const now = set?.tokens.find((t) => t.resource_server === used.resource_server);
    if (set !== undefined && now !== undefined && now.refresh_token !== used.refresh_token && vault.fresh(now)) {
      return { sealed, set };
    }
    await new Promise((resolve) => setTimeout(resolve, ELSEWHERE_POLL_MS));
  }
  return undefined;
}

/**
 * Refresh the stored token of `resourceServer` and store the refreshed set, from the stored
 * record (not the caller's copy: another instance may have refreshed it already). The write is
 * the versioned update; when the record changed meanwhile, ours goes in only if this resource
 * server's token is still the one refreshed (else another refresh or a renewal won, and stands).
 * A refresh that cannot be stored is revoked and answered 503: a rotated refresh token must not
 * live on anywhere but in the store.
 */
async function refreshStored(
  config: ProviderConfig,
  vault: TokenVault,
  actionId: string,
  stale: OfflineToken,
): Promise<Renewed> {
  const rs = stale.resource_server;
  const current = await load(config, actionId);
  const sealed = current?.offline_tokens;
  if (current === undefined || sealed == null || isCompleted(current.status)) {
    throw new Error(`keptToken: action ${actionId} keeps no tokens any more (it completed or was released)`);
  }
  const set = await opened(config, vault, actionId, sealed, stale.scopes[0] ?? rs);
  const token = set.tokens.find((t) => t.resource_server === rs);
  if (token === undefined) throw new ConsentRequiredError(stale.scopes.length > 0 ? stale.scopes : [rs]);
  if (vault.fresh(token)) return { sealed, set }; // refreshed meanwhile, here or on another instance
  let fresh: OfflineToken;
  try {
    fresh = await vault.refresh(token);
  } catch (error) {
    if (!isConsentRequired(error)) throw error;
    if (error.cause === REFUSED_BEFORE) throw error; // known already: no wait, no second log line
    // With rotating refresh tokens, a refresh made at the same moment elsewhere (another
    // instance) spends this one: what it stores is the answer, not a consent to ask for.
    const theirs = await refreshedElsewhere(config, vault, actionId, token);
    if (theirs !== undefined) return theirs;
    config.logger.warn('Globus Auth refused a kept refresh token; the action will ask the user to consent again', {
      action_id: actionId,
      resource_server: rs,
    });
    throw error;
  }
  const next = await vault.seal(actionId, replaced(set, token, fresh));
  let stored: ActionRecord;
  try {
    // Retried through a short outage: with rotating refresh tokens the old one is spent, so
    // losing this write would lose the action's tokens.
    stored = await storedWithRetries(() =>
      mutate(config, current, async (latest) => {
        const now = latest.offline_tokens;
        if (now == null || isCompleted(latest.status)) return undefined;
        if (now === sealed) return { status: latest.status, offline_tokens: next };
        const theirs = await vault.open(actionId, now);
        const same = theirs.tokens.find((t) => t.resource_server === rs);
        if (same?.refresh_token !== token.refresh_token) return undefined;
        return { status: latest.status, offline_tokens: await vault.seal(actionId, replaced(theirs, same, fresh)) };
      }),
    );
  } catch (error) {
    await vault.revoke(actionId, minted(fresh, token));
    throw new ActionError('ServiceUnavailable', 'The refreshed tokens could not be stored; try again later', {
      cause: error,
    });
  }
  const result = stored.offline_tokens == null ? undefined : await vault.open(actionId, stored.offline_tokens);
  const now = result?.tokens.find((t) => t.resource_server === rs);
  if (result !== undefined && now?.access_token === fresh.access_token) {
    return { sealed: stored.offline_tokens as string, set: result };
  }
  // Ours was not stored: the action completed meanwhile, or this token was renewed by another writer.
  await vault.revoke(actionId, minted(fresh, token));
  if (result !== undefined && now !== undefined && vault.fresh(now)) {
    return { sealed: stored.offline_tokens as string, set: result };
  }
  throw new Error(`keptToken: action ${actionId} keeps no tokens any more (it completed or was released)`);
}

/** `write()`, tried again after 0.25, 0.5 and 1 s while the store is unavailable (503). */
async function storedWithRetries<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 3 || !(isActionError(error) && error.code === 'ServiceUnavailable')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}

/**
 * `keptToken` over `record` (the action as the callback sees it; refreshes read the store). An
 * unreachable Globus or store is a 503: an HTTP answer to retry, or, inside `work`, an attempt
 * the runner retries.
 */
export function keptToken(config: ProviderConfig, record: ActionRecord): (scope: string) => Promise<string> {
  const actionId = record.action_id;
  /** The newest sealed set this context has seen: a refresh here replaces it. */
  let known = record.offline_tokens;
  return async (scope: string): Promise<string> => {
    if (typeof scope !== 'string' || scope === '') throw new TypeError('keptToken: scope must be a non-empty string');
    const vault = vaultOf(config, 'keptToken');
    known ??= (await load(config, actionId))?.offline_tokens;
    if (known == null) {
      throw new Error(
        `keptToken: action ${actionId} keeps no tokens (its run did not call keepTokens, or it has completed)`,
      );
    }
    const token = pick(await opened(config, vault, actionId, known, scope), scope);
    if (vault.fresh(token)) return token.access_token;
    const renewed = await vault.once(`${actionId} ${token.resource_server}`, () =>
      refreshStored(config, vault, actionId, token),
    );
    known = renewed.sealed;
    return pick(renewed.set, scope).access_token;
  };
}
