/**
 * @module dev/key: the dev key file's contents (an ES256 key pair and the made-up identity it
 * mints tokens for): making one, writing it, and reading it back strictly.
 */
import { CompactSign, type CryptoKey, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { UUID } from '../auth/jwt/claims.ts';
import { isPlainObject } from '../model.ts';

/** What `dev-key.json` holds (the format examples/dev-auth.ts wrote before this module, kept so old keys still load). */
export interface DevKeyMaterial {
  privateJwk: JWK;
  publicJwk: JWK;
  /** A Globus-identity-shaped UUID, the `sub` of tokens minted without an identity. */
  identity: string;
}

/** A new key pair and identity. */
export async function generateKeyMaterial(): Promise<DevKeyMaterial> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return {
    privateJwk: await exportJWK(pair.privateKey),
    publicJwk: await exportJWK(pair.publicKey),
    identity: crypto.randomUUID(),
  };
}

export function serializeKeyMaterial(material: DevKeyMaterial): string {
  return `${JSON.stringify(material, null, 2)}\n`;
}

const isP256 = (jwk: Record<string, unknown>): boolean =>
  jwk['kty'] === 'EC' && jwk['crv'] === 'P-256' && typeof jwk['x'] === 'string' && typeof jwk['y'] === 'string';

/**
 * The key material in `text`, or why it is not a dev key. The public key must be the private
 * key's own: a file edited by hand into a mismatched pair would mint tokens nothing accepts.
 */
export function parseKeyMaterial(text: string): DevKeyMaterial | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: text.trim() === '' ? 'the file is empty' : 'the file is not JSON' };
  }
  if (!isPlainObject(value)) return { problem: 'the file is not a JSON object' };
  const { privateJwk, publicJwk, identity } = value;
  if (!isPlainObject(privateJwk) || !isP256(privateJwk) || typeof privateJwk['d'] !== 'string')
    return { problem: 'privateJwk is not a P-256 private key (JWK)' };
  if (!isPlainObject(publicJwk) || !isP256(publicJwk) || 'd' in publicJwk)
    return { problem: 'publicJwk is not a P-256 public key (JWK)' };
  if (publicJwk['x'] !== privateJwk['x'] || publicJwk['y'] !== privateJwk['y'])
    return { problem: 'publicJwk is not the public half of privateJwk' };
  if (typeof identity !== 'string' || !UUID.test(identity)) return { problem: 'identity is not a UUID' };
  return { privateJwk: privateJwk as JWK, publicJwk: publicJwk as JWK, identity: identity.toLowerCase() };
}

/**
 * The signing key of `material`, once it has signed something its public key verifies; else
 * why not. Fields of the right shape can still be no key, or not one pair, and a key that mints
 * tokens its own authenticator refuses would fail on every request instead of here.
 */
export async function signingKey(material: DevKeyMaterial): Promise<CryptoKey | { problem: string }> {
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK(material.privateJwk, 'ES256')) as CryptoKey;
    const probe = await new CompactSign(new TextEncoder().encode('dev key check'))
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    await compactVerify(probe, await importJWK(material.publicJwk, 'ES256'));
  } catch {
    return { problem: 'its keys do not sign and verify as one ES256 pair' };
  }
  return privateKey;
}
