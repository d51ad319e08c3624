/**
 * @module examples/dev-auth: DEV MODE ONLY. A signing key made on first start (and kept in the
 * data directory, so tokens and actions outlive a restart), a jwtAuth that trusts it, and
 * tokens for a made-up identity, so the example runs without Globus.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { type Authenticator, jwtAuth } from '../src/index.ts';
import { configuredAuth, type ExampleAuth, scopeFromEnv } from './auth.ts';

export const DEV_ISSUER = 'urn:globus-action-provider:dev';

export interface DevAuth {
  auth: Authenticator;
  /** The made-up identity (a UUID) the dev tokens are for; the same across restarts. */
  identity: string;
  /** Mint a token for `identity` holding `scope`, valid for an hour. */
  mint(identity: string, scope: string): Promise<string>;
}

interface DevState {
  privateJwk: JWK;
  publicJwk: JWK;
  identity: string;
}

/** Load the dev key from `dir` (or make and save one there). */
export async function devAuth(dir?: string): Promise<DevAuth> {
  const file = dir === undefined ? undefined : join(dir, 'dev-key.json');
  let state: DevState | undefined;
  try {
    if (file) state = JSON.parse(readFileSync(file, 'utf8')) as DevState;
  } catch {
    state = undefined;
  }
  if (state === undefined) {
    const pair = await generateKeyPair('ES256', { extractable: true });
    state = {
      privateJwk: await exportJWK(pair.privateKey),
      publicJwk: await exportJWK(pair.publicKey),
      identity: crypto.randomUUID(),
    };
    if (dir && file) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    }
  }
  const privateKey = await importJWK(state.privateJwk, 'ES256');
  return {
    auth: jwtAuth({
      jwks: { keys: [{ ...state.publicJwk, alg: 'ES256' }] },
      issuer: DEV_ISSUER,
      algorithms: ['ES256'],
    }),
    identity: state.identity,
    mint: (identity, scope) =>
      new SignJWT({ scope })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(DEV_ISSUER)
        .setSubject(identity)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey),
  };
}

/** The configured authenticator (examples/auth.ts), or DEV MODE when there is none. */
export async function authFromEnv(env: Record<string, unknown>): Promise<ExampleAuth> {
  const configured = configuredAuth(env);
  if (configured) return configured;
  const scope = scopeFromEnv(env);
  const dev = await devAuth(typeof env['DATA_DIR'] === 'string' && env['DATA_DIR'] !== '' ? env['DATA_DIR'] : '.data');
  return { auth: dev.auth, scope, devToken: await dev.mint(dev.identity, scope) };
}
