/**
 * @module test/fuzz/tokens: the tokens behind the `{{token:NAME}}` placeholders: valid ones
 * for the fuzz users (signed with the test key the targets trust), and ones the provider must
 * refuse: expired, from another issuer or key, without the scope, unsigned, tampered, empty.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { GROUP, ISSUER, mint, OTHER_SCOPE, SCOPE, USERS } from '../support/identities.ts';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const uuid = (n: number, variant: string) => `00000000-0000-4000-${variant}000-${String(n).padStart(12, '0')}`;

/** Every token name a generator may use (test/fuzz/generators/headers.ts), minted now. */
export async function fuzzTokens(): Promise<Record<string, string>> {
  const creator = await mint(USERS.creator, { identitySet: [USERS.creator, USERS.creatorLinked] });
  const other = await generateKeyPair('ES256');
  const [header, payload, signature] = creator.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return {
    creator,
    linked: await mint(USERS.creatorLinked),
    monitor: await mint(USERS.monitor),
    manager: await mint(USERS.manager),
    member: await mint(USERS.member, { groups: [GROUP] }),
    stranger: await mint(USERS.stranger),
    'many-identities': await mint(uuid(7, '8'), {
      // As many as fit a header well under Node's 16 KiB limit.
      identitySet: Array.from({ length: 50 }, (_, i) => uuid(i, 'a')),
      groups: Array.from({ length: 50 }, (_, i) => uuid(i, 'b')),
    }),
    expired: await mint(USERS.creator, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
    'wrong-issuer': await mint(USERS.creator, { issuer: 'urn:fuzz:other-issuer' }),
    'wrong-scope': await mint(USERS.creator, { scope: OTHER_SCOPE }),
    'other-key': await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setSubject(USERS.creator)
      .setExpirationTime('1h')
      .sign(other.privateKey),
    'alg-none': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
    tampered: `${header}.${base64url({ ...claims, sub: USERS.stranger })}.${signature}`,
    'no-sub': await mint(''),
  };
}
