/**
 * @module test/globus-options: `globusAuthOptionsFromEnv()` and the option validation and URL
 * resolution of `globusAuth()` (environments, per-service URLs), checked with a recording fetch
 * and no network.
 */
import { describe, expect, it } from 'vitest';
import {
  GLOBUS_ENVIRONMENTS,
  type GlobusAuthOptions,
  GROUPS_SCOPE,
  globusAuth,
  globusAuthOptionsFromEnv,
} from '../src/index.ts';
import { fakeGlobus } from '../src/testing/index.ts';
import { recordingFetch, startGlobus } from './support/globus.ts';
import { SCOPE, USERS } from './support/identities.ts';

/** A fetch that plays Globus (active token, a Groups token, one group) and records the URLs asked. */
function offlineGlobus() {
  return recordingFetch((request) => {
    const path = new URL(request.url).pathname.replace(/^\/base/, '');
    if (path === '/v2/oauth2/token/introspect')
      return Response.json({ active: true, scope: SCOPE, sub: USERS.creator, identity_set: [USERS.creator] });
    if (path === '/v2/oauth2/token') {
      return Response.json([
        {
          access_token: 'groups-token',
          resource_server: 'groups.api.globus.org',
          scope: GROUPS_SCOPE,
          expires_in: 3600,
          token_type: 'bearer',
        },
      ]);
    }
    if (path === '/v2/groups/my_groups') return Response.json([{ id: 'g1' }]);
    return Response.json({ error: 'not_found' }, { status: 404 });
  });
}

/** Authenticate once and read the groups, so that every base URL is used. */
async function exercise(options: Partial<GlobusAuthOptions>) {
  const record = offlineGlobus();
  const auth = globusAuth({ clientId: 'id', clientSecret: 'secret', ...options, fetch: record });
  const who = await auth.authenticate({ token: 'tok', request: new Request('http://provider.test/') });
  expect(await who.groups()).toEqual(['urn:globus:groups:id:g1']);
  return record.requests.map((r) => `${r.method} ${r.url}`);
}

describe('globusAuthOptionsFromEnv', () => {
  it('maps GLOBUS_CLIENT_ID/SECRET, GLOBUS_SDK_ENVIRONMENT and GLOBUS_SDK_SERVICE_URL_AUTH/_GROUPS', () => {
    expect(
      globusAuthOptionsFromEnv({
        GLOBUS_CLIENT_ID: 'cid',
        GLOBUS_CLIENT_SECRET: 'csecret',
        GLOBUS_SDK_ENVIRONMENT: 'sandbox',
        GLOBUS_SDK_SERVICE_URL_AUTH: 'http://127.0.0.1:8700/',
        GLOBUS_SDK_SERVICE_URL_GROUPS: 'http://127.0.0.1:8701/',
        UNRELATED: 'x',
      }),
    ).toEqual({
      clientId: 'cid',
      clientSecret: 'csecret',
      environment: 'sandbox',
      authUrl: 'http://127.0.0.1:8700/',
      groupsUrl: 'http://127.0.0.1:8701/',
    });
  });

  it('leaves out what is unset or empty', () => {
    expect(
      globusAuthOptionsFromEnv({
        GLOBUS_CLIENT_ID: 'cid',
        GLOBUS_CLIENT_SECRET: 'cs',
        GLOBUS_SDK_ENVIRONMENT: '',
        GLOBUS_SDK_SERVICE_URL_AUTH: '',
      }),
    ).toEqual({
      clientId: 'cid',
      clientSecret: 'cs',
    });
  });

  it.each([
    ['nothing', {}],
    ['no secret', { GLOBUS_CLIENT_ID: 'cid' }],
    ['no id', { GLOBUS_CLIENT_SECRET: 'cs' }],
    ['an empty id', { GLOBUS_CLIENT_ID: '', GLOBUS_CLIENT_SECRET: 'cs' }],
    ['a non-string binding', { GLOBUS_CLIENT_ID: 42, GLOBUS_CLIENT_SECRET: 'cs' }],
  ])('is undefined without client credentials (%s)', (_, env) => {
    expect(globusAuthOptionsFromEnv(env)).toBeUndefined();
  });

  it('its result works as globusAuth options against the fake served over HTTP', async () => {
    const { globus, url } = await startGlobus({ users: [{ id: USERS.member, groups: ['gid'] }] });
    const options = globusAuthOptionsFromEnv({
      GLOBUS_CLIENT_ID: globus.client.id,
      GLOBUS_CLIENT_SECRET: globus.client.secret,
      GLOBUS_SDK_SERVICE_URL_AUTH: `${url}/`,
      GLOBUS_SDK_SERVICE_URL_GROUPS: `${url}/`,
    });
    const auth = globusAuth(options!);
    const who = await auth.authenticate({
      token: globus.issueToken({ user: USERS.member, scopes: [SCOPE] }),
      request: new Request('http://x/'),
    });
    expect(who.identity).toBe(`urn:globus:auth:identity:${USERS.member}`);
    expect(await who.groups()).toEqual(['urn:globus:groups:id:gid']);
    expect(globus.calls).toEqual({ introspect: 1, token: 1, groups: 1 });
  });
});

describe('globusAuth URLs', () => {
  it('production by default', async () => {
    expect(await exercise({})).toEqual([
      'POST https://auth.globus.org/v2/oauth2/token/introspect',
      'POST https://auth.globus.org/v2/oauth2/token',
      'GET https://groups.api.globus.org/v2/groups/my_groups',
    ]);
  });

  it('environment sandbox maps to auth.sandbox.globuscs.info and its Groups', async () => {
    expect(await exercise({ environment: 'sandbox' })).toEqual([
      'POST https://auth.sandbox.globuscs.info/v2/oauth2/token/introspect',
      'POST https://auth.sandbox.globuscs.info/v2/oauth2/token',
      'GET https://groups.api.sandbox.globuscs.info/v2/groups/my_groups',
    ]);
  });

  it.each(Object.keys(GLOBUS_ENVIRONMENTS) as (keyof typeof GLOBUS_ENVIRONMENTS)[])(
    'environment %s uses its hosts',
    async (environment) => {
      const urls = await exercise({ environment });
      expect(urls[0]).toBe(`POST ${GLOBUS_ENVIRONMENTS[environment].auth}/v2/oauth2/token/introspect`);
      expect(urls[2]).toBe(`GET ${GLOBUS_ENVIRONMENTS[environment].groups}/v2/groups/my_groups`);
    },
  );

  it('authUrl and groupsUrl override the environment; trailing slashes are dropped, a path prefix is kept', async () => {
    expect(
      await exercise({
        environment: 'sandbox',
        authUrl: 'http://127.0.0.1:8700/',
        groupsUrl: 'http://127.0.0.1:8701/base/',
      }),
    ).toEqual([
      'POST http://127.0.0.1:8700/v2/oauth2/token/introspect',
      'POST http://127.0.0.1:8700/v2/oauth2/token',
      'GET http://127.0.0.1:8701/base/v2/groups/my_groups',
    ]);
  });

  it('only authUrl given: Groups stays on the environment', async () => {
    const urls = await exercise({ authUrl: 'http://localhost:1234' });
    expect(urls[0]).toBe('POST http://localhost:1234/v2/oauth2/token/introspect');
    expect(urls[2]).toBe('GET https://groups.api.globus.org/v2/groups/my_groups');
  });
});

describe('globusAuth option validation', () => {
  const ok = { clientId: 'id', clientSecret: 'secret' };

  it.each([
    ['no options', undefined],
    ['null', null],
    ['missing clientId', { clientSecret: 'secret' }],
    ['empty clientId', { clientId: '', clientSecret: 'secret' }],
    ['missing clientSecret', { clientId: 'id' }],
    ['empty clientSecret', { clientId: 'id', clientSecret: '' }],
    ['a numeric clientSecret', { clientId: 'id', clientSecret: 42 }],
    ['an unknown environment', { ...ok, environment: 'moon' }],
    ['environment named like an Object method', { ...ok, environment: 'toString' }],
    ['environment __proto__', { ...ok, environment: '__proto__' }],
    ['a relative authUrl', { ...ok, authUrl: '/auth' }],
    ['a garbage authUrl', { ...ok, authUrl: 'not a url' }],
    ['a garbage groupsUrl', { ...ok, groupsUrl: 'http://' }],
    ['timeout 0', { ...ok, timeout: 0 }],
    ['a negative timeout', { ...ok, timeout: -1 }],
    ['timeout NaN', { ...ok, timeout: Number.NaN }],
    ['timeout Infinity', { ...ok, timeout: Number.POSITIVE_INFINITY }],
    ['timeout as a string', { ...ok, timeout: '300' }],
    ['a timeout beyond what timers support', { ...ok, timeout: 3_000_000_000 }],
    ['an unknown groupsFailure', { ...ok, groupsFailure: 'ignore' }],
  ])('%s → TypeError', (_, options) => {
    expect(() => globusAuth(options as never)).toThrow(TypeError);
  });

  it('names the offending option', () => {
    expect(() => globusAuth({ clientSecret: 's' } as never)).toThrow(/clientId/);
    expect(() => globusAuth({ clientId: 'i' } as never)).toThrow(/clientSecret/);
    expect(() => globusAuth({ ...ok, environment: 'moon' as never })).toThrow(/environment/);
    expect(() => globusAuth({ ...ok, environment: 'toString' as never })).toThrow(/environment/);
    expect(() => globusAuth({ ...ok, authUrl: 'nope' })).toThrow(/authUrl/);
    expect(() => globusAuth({ ...ok, groupsUrl: 'nope' })).toThrow(/groupsUrl/);
    expect(() => globusAuth({ ...ok, timeout: -5 })).toThrow(/timeout/);
  });

  it('the error does not echo the client secret', () => {
    const secret = 'super-secret-value';
    for (const bad of [
      { clientId: '', clientSecret: secret },
      { clientId: 'i', clientSecret: secret, environment: 'moon' },
      { clientId: 'i', clientSecret: secret, timeout: -1 },
    ]) {
      let message = '';
      try {
        globusAuth(bad as never);
      } catch (error) {
        message = String(error);
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(secret);
    }
  });

  it('a fractional timeout is accepted and works', async () => {
    const globus = fakeGlobus();
    const auth = globusAuth({ ...globus.authOptions(), timeout: 1500.5 });
    const who = await auth.authenticate({
      token: globus.issueToken({ user: USERS.creator, scopes: [SCOPE] }),
      request: new Request('http://x/'),
    });
    expect(who.identity).toBe(`urn:globus:auth:identity:${USERS.creator}`);
  });

  it('valid options make no call to Globus until a token arrives', () => {
    const record = offlineGlobus();
    globusAuth({ ...ok, fetch: record, environment: 'preview', timeout: 5000, groupsFailure: 'empty', cacheSize: 10 });
    expect(record.requests).toEqual([]);
  });
});
