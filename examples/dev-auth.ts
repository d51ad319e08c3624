/**
 * @module examples/dev-auth: DEV MODE ONLY. A signing key generated at start, a jwtAuth that
 * trusts it, and a token for a made-up identity, so the example runs without Globus.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { jwtAuth, type Authenticator } from '../src/index.ts';

export const DEV_ISSUER = 'urn:globus-action-provider:dev';

export interface DevAuth {
  auth: Authenticator;
  /** Mint a token for `identity` (a UUID) holding `scope`, valid for an hour. */
  mint(identity: string, scope: string): Promise<string>;
}

export async function devAuth(): Promise<DevAuth> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return {
    auth: jwtAuth({ key: publicKey, issuer: DEV_ISSUER, algorithms: ['ES256'] }),
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
