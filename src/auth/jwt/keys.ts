/**
 * @module auth/jwt/keys: where `jwtAuth` finds its verification keys (a JWKS URL, a local key
 * set, a single key), and a JWKS fetch that tells an unreachable or broken issuer apart from a
 * bad token.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { isPlainObject } from '../../model.ts';

/** The JWKS could not be had (network, timeout, not 200, not a key set): the issuer's fault, a 503, never kept. */
export class JwksUnavailable extends Error {
  override readonly name: string = 'JwksUnavailable';
}

/** What a key set must look like: `{"keys": [{"kty": ...}, ...]}`. */
function isKeySet(value: unknown): value is JSONWebKeySet {
  return (
    isPlainObject(value) &&
    Array.isArray(value['keys']) &&
    value['keys'].every((key: unknown) => isPlainObject(key) && typeof key['kty'] === 'string')
  );
}

/**
 * `fetchImpl`, failing with `JwksUnavailable` unless the answer is a 200 holding a key set. jose
 * answers a 5xx or garbage JWKS with the same JOSEError family as a forged token, so the
 * difference is made here, where it is known.
 */
function guardedFetch(fetchImpl: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(input, init);
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new JwksUnavailable(`the JWKS answered HTTP ${response.status}`);
      }
      text = await response.text();
    } catch (error) {
      if (error instanceof JwksUnavailable) throw error;
      throw new JwksUnavailable('the JWKS could not be fetched', { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new JwksUnavailable('the JWKS answer is not JSON');
    }
    if (!isKeySet(json)) throw new JwksUnavailable('the JWKS answer is not a JSON Web Key Set');
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

export interface KeySource {
  jwks?: URL | string | JSONWebKeySet | undefined;
  key?: CryptoKey | KeyObject | JWK | Uint8Array | undefined;
  fetch?: typeof fetch | undefined;
  /** How long one JWKS fetch may take, in ms. */
  jwksTimeout: number;
}

/**
 * Every form of key as a key function: one `jwtVerify` overload fits them all, and jose treats a
 * function's key as it would the key.
 *
 * @example
 * ```ts
 * const keys = resolveKeys({ jwks: 'https://issuer.example/jwks.json', jwksTimeout: 5_000 })
 * ```
 */
export function resolveKeys(source: KeySource): JWTVerifyGetKey {
  const { jwks, key } = source;
  if (jwks !== undefined) {
    if (jwks instanceof URL || typeof jwks === 'string') {
      let url: URL;
      try {
        url = new URL(jwks);
      } catch {
        throw new TypeError('jwtAuth: jwks must be an absolute URL or a JSON Web Key Set');
      }
      const fetchImpl = source.fetch ?? ((input, init) => fetch(input, init));
      return createRemoteJWKSet(url, { [customFetch]: guardedFetch(fetchImpl), timeoutDuration: source.jwksTimeout });
    }
    if (typeof jwks !== 'object' || !Array.isArray(jwks.keys))
      throw new TypeError('jwtAuth: jwks must be a URL or a { keys: [...] } set');
    return createLocalJWKSet(jwks);
  }
  if (isJwk(key)) return createLocalJWKSet({ keys: [key] });
  const single = key as CryptoKey | KeyObject | Uint8Array;
  return () => single;
}

/**
 * A fresh fetch of the JWKS behind `keys`, for a remote key set (what verification uses, so its
 * result serves the next token too); undefined for local keys, which have nothing to reach.
 */
export function jwksReload(keys: JWTVerifyGetKey): (() => Promise<void>) | undefined {
  const { reload } = keys as { reload?: unknown };
  return typeof reload === 'function' ? () => (reload as () => Promise<void>).call(keys) : undefined;
}

function isJwk(key: unknown): key is JWK {
  return typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string';
}
