/** @module test/authentication: the bearer token rules on every route but a public `GET /`. */
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import type { ActionClient, ClientReply } from '../src/testing/index.ts';
import { start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { ISSUER, mint, OTHER_SCOPE, SCOPE, USERS } from './support/identities.ts';
import { description, testProvider } from './support/providers.ts';
import { connect, type Routes, TRANSPORTS } from './support/transports.ts';

type Send = (client: ActionClient) => Promise<ClientReply>;
/**
 * A route of every kind that needs a token (the ids need not exist: authentication comes
 * first), with the client call that sends it.
 */
const ROUTES: [string, string, Routes, Send][] = [
  ['POST', '/run', 'legacy', (c) => c.run({ request_id: 'r', body: {} })],
  ['POST', '/actions', 'actions', (c) => c.run({ request_id: 'r', body: {} })],
  ['GET', '/actions', 'actions', (c) => c.enumerate()],
  ['GET', '/some-id/status', 'legacy', (c) => c.status('some-id')],
  ['GET', '/actions/some-id', 'actions', (c) => c.status('some-id')],
  ['POST', '/actions/some-id/cancel', 'actions', (c) => c.cancel('some-id')],
  ['DELETE', '/actions/some-id', 'actions', (c) => c.release('some-id')],
  ['GET', '/some-id/log', 'legacy', (c) => c.log('some-id')],
];

const valid = await mint(USERS.creator);
const otherKeys = await generateKeyPair('ES256');
const BAD_TOKENS: Record<string, string> = {
  expired: await mint(USERS.creator, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
  'wrong issuer': await mint(USERS.creator, { issuer: 'urn:test:someone-else' }),
  'signed by another key': await new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(ISSUER)
    .setSubject(USERS.creator)
    .setExpirationTime('1h')
    .sign(otherKeys.privateKey),
  garbage: 'not-a-jwt',
  'three garbage segments': 'abc.def.ghi',
  'without the provider scope': await mint(USERS.creator, { scope: OTHER_SCOPE }),
  'with an empty scope': await mint(USERS.creator, { scope: '' }),
};

function expectUnauthorized(reply: ClientReply): void {
  expectError(reply, 401, 'UnauthorizedRequest');
  expect(reply.headers.get('www-authenticate')).toBe('Bearer');
  expect(reply.headers.get('access-control-allow-origin')).toBe('*');
}

describe.each(TRANSPORTS)('authentication ($name)', (transport) => {
  let provider: ActionProvider;
  beforeAll(() => {
    provider = testProvider({ log: () => ({ entries: [] }) });
  });

  describe.each(ROUTES)('%s %s', (method, path, routes, send) => {
    const body = method === 'POST' ? { body: { request_id: 'r', body: {} } } : {};
    // The Authorization headers the client never sends go raw.
    const headerCases: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['Bearer with an empty token', { authorization: 'Bearer ' }],
      ['the scheme alone', { authorization: 'Bearer' }],
      ['a token without a scheme', { authorization: valid }],
      ['a Bearer header with two tokens', { authorization: `Bearer ${valid} ${valid}` }],
    ];
    it.each(headerCases)('%s → 401', async (_, headers) => {
      const connection = await connect(transport, provider);
      expectUnauthorized(await connection.raw(method, path, { headers, ...body }));
    });

    it.each(Object.entries(BAD_TOKENS))('a token %s → 401', async (_, token) => {
      const connection = await connect(transport, provider);
      expectUnauthorized(await send(connection.client(token, routes)));
    });
  });

  it('accepts the scheme in lower case and extra spaces around the token', async () => {
    const connection = await connect(transport, provider);
    for (const authorization of [`bearer ${valid}`, `BEARER ${valid}`, `Bearer    ${valid}   `, `  Bearer ${valid}`]) {
      const reply = await connection.raw('GET', '/actions', { headers: { authorization } });
      expect(reply.status, `${JSON.stringify(authorization)}: ${reply.text}`).toBe(200);
    }
  });

  it('accepts a token that holds the provider scope among others', async () => {
    const connection = await connect(transport, provider);
    const token = await mint(USERS.creator, { scope: `openid ${OTHER_SCOPE} ${SCOPE}` });
    expect((await connection.client(token).enumerate()).status).toBe(200);
  });

  it('an authenticated caller reaches the operation (unknown id → 404, not 401)', async () => {
    const connection = await connect(transport, provider);
    expectError(await connection.client(valid, 'actions').status('some-id'), 404, 'ActionNotFound');
  });

  it('with additional_scopes, a token holding only one additional scope is accepted', async () => {
    const extra = 'https://auth.globus.org/scopes/22222222-2222-4222-8222-222222222222/extra';
    const p = testProvider({
      description: description({ title: 't', admin_contact: 'a', additional_scopes: [OTHER_SCOPE, extra] }),
    });
    const connection = await connect(transport, p);
    const onlyExtra = await mint(USERS.creator, { scope: extra });
    const action = await start(connection.client(onlyExtra));
    expect(action.creator_id).toBe(`urn:globus:auth:identity:${USERS.creator}`);
    const otherOnly = connection.client(await mint(USERS.creator, { scope: OTHER_SCOPE }), 'actions');
    expect((await otherOnly.status(action.action_id)).status).toBe(200);
    expect((await connection.client(valid).enumerate()).status).toBe(200);
    expectUnauthorized(await connection.client(await mint(USERS.creator, { scope: 'openid' })).enumerate());
    // additional scopes are not published
    const doc = (await connection.client().introspect()).body;
    expect(doc.globus_auth_scope).toBe(SCOPE);
    expect(JSON.stringify(doc)).not.toContain(extra);
  });
});
