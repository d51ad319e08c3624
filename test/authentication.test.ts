/** @module test/authentication: the bearer token rules on every route but a public `GET /`. */
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import { type Call, ISSUER, mint, OTHER_SCOPE, SCOPE, TRANSPORTS, testProvider, USERS } from './helpers.ts';
import { connect, expectError, start } from './operations-fixtures.ts';

/** A route of every kind that needs a token (the ids need not exist: authentication comes first). */
const ROUTES: [string, string][] = [
  ['POST', '/run'],
  ['POST', '/actions'],
  ['GET', '/actions'],
  ['GET', '/some-id/status'],
  ['GET', '/actions/some-id'],
  ['POST', '/actions/some-id/cancel'],
  ['DELETE', '/actions/some-id'],
  ['GET', '/some-id/log'],
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

function expectUnauthorized(reply: Awaited<ReturnType<Call>>): void {
  expectError(reply, 401, 'UnauthorizedRequest');
  expect(reply.headers.get('www-authenticate')).toBe('Bearer');
  expect(reply.headers.get('access-control-allow-origin')).toBe('*');
}

describe.each(TRANSPORTS)('authentication ($name)', (transport) => {
  let provider: ActionProvider;
  beforeAll(() => {
    provider = testProvider({ log: () => ({ entries: [] }) });
  });

  describe.each(ROUTES)('%s %s', (method, path) => {
    const body = method === 'POST' ? { body: { request_id: 'r', body: {} } } : {};
    const headerCases: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['Bearer with an empty token', { authorization: 'Bearer ' }],
      ['the scheme alone', { authorization: 'Bearer' }],
      ['a token without a scheme', { authorization: valid }],
      ['a Bearer header with two tokens', { authorization: `Bearer ${valid} ${valid}` }],
    ];
    it.each(headerCases)('%s → 401', async (_, headers) => {
      const call = await connect(transport, provider);
      expectUnauthorized(await call(method, path, { headers, ...body }));
    });

    it.each(Object.entries(BAD_TOKENS))('a token %s → 401', async (_, token) => {
      const call = await connect(transport, provider);
      expectUnauthorized(await call(method, path, { token, ...body }));
    });
  });

  it('accepts the scheme in lower case and extra spaces around the token', async () => {
    const call = await connect(transport, provider);
    for (const authorization of [`bearer ${valid}`, `BEARER ${valid}`, `Bearer    ${valid}   `, `  Bearer ${valid}`]) {
      const reply = await call('GET', '/actions', { headers: { authorization } });
      expect(reply.status, `${JSON.stringify(authorization)}: ${reply.text}`).toBe(200);
    }
  });

  it('accepts a token that holds the provider scope among others', async () => {
    const call = await connect(transport, provider);
    const token = await mint(USERS.creator, { scope: `openid ${OTHER_SCOPE} ${SCOPE}` });
    expect((await call('GET', '/actions', { token })).status).toBe(200);
  });

  it('an authenticated caller reaches the operation (unknown id → 404, not 401)', async () => {
    const call = await connect(transport, provider);
    expectError(await call('GET', '/actions/some-id', { token: valid }), 404, 'ActionNotFound');
  });

  it('with additional_scopes, a token holding only one additional scope is accepted', async () => {
    const extra = 'https://auth.globus.org/scopes/22222222-2222-4222-8222-222222222222/extra';
    const p = testProvider({
      description: {
        title: 't',
        globus_auth_scope: SCOPE,
        admin_contact: 'a',
        additional_scopes: [OTHER_SCOPE, extra],
      },
    });
    const call = await connect(transport, p);
    const onlyExtra = await mint(USERS.creator, { scope: extra });
    const action = await start(call, onlyExtra);
    expect(action.creator_id).toBe(`urn:globus:auth:identity:${USERS.creator}`);
    expect(
      (await call('GET', `/actions/${action.action_id}`, { token: await mint(USERS.creator, { scope: OTHER_SCOPE }) }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/actions', { token: valid })).status).toBe(200);
    expectUnauthorized(await call('GET', '/actions', { token: await mint(USERS.creator, { scope: 'openid' }) }));
    // additional scopes are not published
    const doc = (await call('GET', '/')).json;
    expect(doc.globus_auth_scope).toBe(SCOPE);
    expect(JSON.stringify(doc)).not.toContain(extra);
  });
});
