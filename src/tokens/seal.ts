/**
 * @module tokens/seal: a set of offline tokens sealed into one string and opened again:
 * AES-256-GCM under the keyring's sealing key, a random 96-bit IV per seal, and the action id in
 * the authenticated data, so a blob opens only for the action it was sealed for (a copy into
 * another record is refused as tampered). Web Crypto only.
 *
 * The string is `v1.<key id>.<iv>.<ciphertext>`, base64url parts: plain JSON text in any store.
 */
import type { OfflineToken } from '../auth/types.ts';
import { fromBase64, toBase64url } from './base64url.ts';
import type { TokenKeyring } from './keys.ts';

/** What an action keeps: its tokens, and what `keepTokens` asked for (so a resume can ask again). */
export interface TokenSet {
  /** The scopes (or resource servers) `keepTokens` named; null when it named none (every one granted). */
  scopes: string[] | null;
  tokens: OfflineToken[];
}

/** Why a sealed blob does not open. */
export type UnsealReason = 'malformed' | 'unknown-key' | 'tampered';

/**
 * A blob that does not open: not one of ours, sealed with a key no longer in `tokenKey`, or
 * changed since (or sealed for another action). Its message never holds the blob.
 */
export class SealedTokensError extends Error {
  override readonly name: string = 'SealedTokensError';
  readonly reason: UnsealReason;

  constructor(reason: UnsealReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Not model.ts's: this module imports nothing but its own siblings, so it loads alone on any runtime.
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const aad = (keyId: string, actionId: string) => encoder.encode(`${VERSION}.${keyId}.${actionId}`);

/**
 * `set` sealed for the action `actionId`.
 *
 * @example
 * ```ts
 * const sealed = await sealTokens(keys, record.action_id, { scopes: [TRANSFER_SCOPE], tokens })
 * ```
 */
export async function sealTokens(keys: TokenKeyring, actionId: string, set: TokenSet): Promise<string> {
  const { id, key } = await keys.sealing();
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plaintext = encoder.encode(JSON.stringify({ scopes: set.scopes, tokens: set.tokens }));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(id, actionId) },
    key,
    plaintext,
  );
  return `${VERSION}.${id}.${toBase64url(iv)}.${toBase64url(new Uint8Array(ciphertext))}`;
}

const isToken = (value: unknown): value is OfflineToken =>
  isPlainObject(value) &&
  typeof value['access_token'] === 'string' &&
  typeof value['refresh_token'] === 'string' &&
  typeof value['resource_server'] === 'string' &&
  typeof value['expires_at'] === 'number' &&
  Array.isArray(value['scopes']) &&
  value['scopes'].every((s) => typeof s === 'string');

/**
 * The set `sealed` holds, if it was sealed for `actionId` with a key of `keys`; else a
 * SealedTokensError saying why.
 *
 * @example
 * ```ts
 * const { tokens } = await openTokens(keys, record.action_id, record.offline_tokens)
 * ```
 */
export async function openTokens(keys: TokenKeyring, actionId: string, sealed: string): Promise<TokenSet> {
  const parts = sealed.split('.');
  const [version, keyId, ivText, cipherText] = parts;
  const iv = ivText === undefined ? undefined : fromBase64(ivText);
  const ciphertext = cipherText === undefined ? undefined : fromBase64(cipherText);
  if (parts.length !== 4 || version !== VERSION || !keyId || iv?.length !== IV_BYTES || ciphertext === undefined) {
    throw new SealedTokensError('malformed', 'The kept tokens are not a sealed token set this toolkit wrote');
  }
  const key = await keys.opening(keyId);
  if (key === undefined) {
    throw new SealedTokensError(
      'unknown-key',
      `The kept tokens were sealed with a key (id ${keyId}) that tokenKey no longer holds; keep the old key in the list until no action needs it`,
    );
  }
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: aad(keyId, actionId) },
      key,
      ciphertext,
    );
  } catch {
    throw new SealedTokensError(
      'tampered',
      'The kept tokens fail authentication: changed since sealed, or sealed for another action',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(plaintext));
  } catch {
    parsed = undefined;
  }
  const scopes = isPlainObject(parsed) ? parsed['scopes'] : undefined;
  const tokens = isPlainObject(parsed) ? parsed['tokens'] : undefined;
  if (
    !(scopes === null || (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))) ||
    !Array.isArray(tokens) ||
    !tokens.every(isToken)
  ) {
    throw new SealedTokensError('malformed', 'The kept tokens opened, but hold no token set');
  }
  return { scopes, tokens };
}
