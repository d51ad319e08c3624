/**
 * @module test/support/identities: the test signing key, identities, scopes and tokens, and
 * the authenticators that trust them (in process, and through the examples' environment).
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type Authenticator, createCaller, jwtAuth } from '../../src/index.ts';

export const SCOPE = 'https://auth.globus.org/scopes/d3a66776-759f-4316-ba55-21725fe37323/action_all';
export const OTHER_SCOPE = 'https://auth.globus.org/scopes/11111111-1111-4111-8111-111111111111/other';
export const ISSUER = 'urn:test:issuer';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** Identity ids (bare UUIDs); `urn()` makes their URNs. */
export const USERS = {
  creator: id(1),
  creatorLinked: id(2),
  monitor: id(3),
  manager: id(4),
  member: id(5),
  stranger: id(6),
} as const;
export const GROUP = id(100);
/** Group ids of the Globus suites (the fake Globus Groups knows them). */
export const GROUPS = { lab: id(200), monitors: id(201), managers: id(202), other: id(203) } as const;
export const urn = (uuid: string) => `urn:globus:auth:identity:${uuid}`;
export const groupUrn = (uuid: string) => `urn:globus:groups:id:${uuid}`;

const keys = await generateKeyPair('ES256');
export const publicKey = keys.publicKey;

export interface MintOptions {
  scope?: string;
  identitySet?: string[];
  groups?: string[];
  expiresIn?: string | number;
  issuer?: string;
  /** More claims (`amr`, `auth_time`, ...). */
  claims?: Record<string, unknown>;
}

/** A token the test authenticator accepts, for `sub` = `identity`. */
export function mint(identity: string, options: MintOptions = {}): Promise<string> {
  return new SignJWT({
    scope: options.scope ?? SCOPE,
    ...(options.identitySet ? { identity_set: options.identitySet } : {}),
    ...(options.groups ? { groups: options.groups } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(options.issuer ?? ISSUER)
    .setSubject(identity)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(keys.privateKey);
}

/** Tokens for every test user; the creator's token carries a linked identity, the member's the group. */
export async function tokens() {
  return {
    creator: await mint(USERS.creator, { identitySet: [USERS.creator, USERS.creatorLinked] }),
    creatorLinked: await mint(USERS.creatorLinked),
    monitor: await mint(USERS.monitor),
    manager: await mint(USERS.manager),
    member: await mint(USERS.member, { groups: [GROUP] }),
    stranger: await mint(USERS.stranger),
  };
}

/** The authenticator of the test providers: `jwtAuth` trusting the test key. */
export const testAuth = (clock?: () => number) =>
  jwtAuth({ key: publicKey, issuer: ISSUER, algorithms: ['ES256'], ...(clock ? { clock } : {}) });

/**
 * An authenticator whose bearer tokens are `<identity-urn>[,<linked-urn>...]`, with a
 * `groups` loader (from `membership`, by identity URN) that counts its calls (so a test can see when groups were needed).
 */
export function countingAuth(membership: Record<string, readonly string[]>): Authenticator & { groupLoads: number } {
  const auth = {
    groupLoads: 0,
    async authenticate({ token }: { token: string }) {
      const [identity, ...identities] = token.split(',');
      return createCaller({
        identity: identity as string,
        identities,
        scopes: [SCOPE],
        token,
        groups: async () => {
          auth.groupLoads++;
          return membership[identity as string] ?? [];
        },
      });
    },
  };
  return auth;
}

/** Environment (or Worker bindings) that make the examples trust the test key. */
export async function exampleEnv(): Promise<Record<string, string>> {
  const jwk = await exportJWK(publicKey);
  return {
    JWT_JWKS: JSON.stringify({ keys: [{ ...jwk, alg: 'ES256' }] }),
    JWT_ISSUER: ISSUER,
    PROVIDER_SCOPE: SCOPE,
    PORT: '0',
  };
}
