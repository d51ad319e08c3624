/**
 * @module tokens/keys: the provider's `tokenKey` option, checked at creation, and the AES-256-GCM
 * keys derived from it with HKDF-SHA-256 (each with a key id, so that keys can be rotated: the
 * first seals, every one opens). Web Crypto only, so it runs on every runtime; the derivation
 * is done once, on first use, and kept by the keyring (its instance), never by the module.
 */
import { fromBase64, toBase64url } from './base64url.ts';

/**
 * Web Crypto's key type as this runtime's own lib declares it. Not the global `CryptoKey`: a
 * Node project without the DOM lib has that only as a value (and jose's structural name is
 * `never` under Deno's lib).
 */
type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/**
 * One secret: at least 32 random bytes as base64 or base64url text (`openssl rand -base64 32`),
 * or a Web Crypto key imported for HKDF
 * (`crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey', 'deriveBits'])`).
 */
export type TokenSecret = string | Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** `tokenKey`: one secret, or several (the first seals; all open, for rotation). */
export type TokenKeyOption = TokenSecret | readonly TokenSecret[];

/** A derived key and the id blobs sealed with it carry. */
export interface SealingKey {
  readonly id: string;
  readonly key: WebCryptoKey;
}

export interface TokenKeyring {
  /** The key new blobs are sealed with: the first secret's. */
  sealing(): Promise<SealingKey>;
  /** The key whose id is `id`, if one of the secrets has it. */
  opening(id: string): Promise<WebCryptoKey | undefined>;
}

/** Below this many bytes a secret is refused: AES-256 wants 256 bits of entropy going in. */
export const MIN_SECRET_BYTES = 32;
/** More secrets than this is a mistake (rotation needs two or three). */
const MAX_SECRETS = 16;

const encoder = new TextEncoder();
// Fixed salt and per-purpose info strings (RFC 5869): the secrets are uniformly random already,
// and the info keeps the key id and the encryption key independent of each other.
const SALT = encoder.encode('globus-action-provider');
const KEY_ID_INFO = encoder.encode('globus-action-provider offline tokens: key id v1');
const AES_INFO = encoder.encode('globus-action-provider offline tokens: AES-256-GCM v1');

const USAGE =
  'tokenKey: must be at least 32 random bytes as base64 or base64url text (e.g. `openssl rand -base64 32`), ' +
  "a CryptoKey imported for HKDF (usages 'deriveKey' and 'deriveBits'), or a non-empty list of them (the first seals, all open)";

const isCryptoKey = (value: unknown): value is WebCryptoKey =>
  typeof globalThis.CryptoKey === 'function' && value instanceof globalThis.CryptoKey;

/** One secret checked now (a TypeError naming `where`), imported later. */
function checkSecret(value: unknown, where: string): () => Promise<WebCryptoKey> {
  if (typeof value === 'string') {
    const bytes = fromBase64(value.trim());
    if (bytes === undefined) throw new TypeError(`${where} is not base64 or base64url text. ${USAGE}`);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new TypeError(`${where} holds ${bytes.length} bytes, fewer than ${MIN_SECRET_BYTES}. ${USAGE}`);
    }
    return () => crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey', 'deriveBits']);
  }
  if (isCryptoKey(value)) {
    const usages = value.usages;
    if (value.algorithm.name !== 'HKDF' || !usages.includes('deriveKey') || !usages.includes('deriveBits')) {
      throw new TypeError(`${where} is a CryptoKey for ${value.algorithm.name}, not for HKDF. ${USAGE}`);
    }
    return async () => value;
  }
  throw new TypeError(`${where} is neither text nor a CryptoKey. ${USAGE}`);
}

async function derive(base: WebCryptoKey): Promise<SealingKey> {
  const hkdf = (info: Uint8Array) => ({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info });
  const [idBits, key] = await Promise.all([
    crypto.subtle.deriveBits(hkdf(KEY_ID_INFO), base, 64),
    crypto.subtle.deriveKey(hkdf(AES_INFO), base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
  ]);
  return { id: toBase64url(new Uint8Array(idBits)), key };
}

/**
 * The keyring of a `tokenKey` option, or undefined without one. Throws a TypeError naming the
 * bad secret; derivation happens on first use (Web Crypto is asynchronous).
 *
 * @example
 * ```ts
 * const keys = resolveTokenKeys([env.TOKEN_KEY, env.OLD_TOKEN_KEY])
 * const { id, key } = await keys!.sealing()
 * ```
 */
export function resolveTokenKeys(option: unknown): TokenKeyring | undefined {
  if (option === undefined) return undefined;
  const list: readonly unknown[] = Array.isArray(option) ? option : [option];
  if (list.length === 0 || list.length > MAX_SECRETS) {
    throw new TypeError(`tokenKey: a list must hold 1 to ${MAX_SECRETS} secrets. ${USAGE}`);
  }
  const imports = list.map((secret, i) => checkSecret(secret, Array.isArray(option) ? `tokenKey[${i}]` : 'tokenKey'));
  let derived: Promise<SealingKey[]> | undefined;
  const all = (): Promise<SealingKey[]> => {
    derived ??= Promise.all(imports.map(async (load) => derive(await load()))).catch((error: unknown) => {
      derived = undefined; // a failed derivation is tried again next time
      throw error;
    });
    return derived;
  };
  return {
    sealing: async () => (await all())[0] as SealingKey,
    opening: async (id) => (await all()).find((k) => k.id === id)?.key,
  };
}
