/**
 * @module test/session: session requirements (an identity from a domain, a given identity, MFA,
 * authentication policies) with `globusAuth` against the fake Globus over real HTTP, in both
 * route families: the provider's `requireSession` on run (403 with the GARE, nothing stored) and
 * on resume; a callback's `requireSession` at run and mid-action (INACTIVE with the GARE until a
 * caller whose session satisfies it resumes, or polls as Flows does); `work` passing on a
 * downstream GARE; what introspection asks Globus for, and how often.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { unmetRequirement } from '../src/auth/session.ts';
import {
  AuthorizationRequiredError,
  createActionProvider,
  globusAuth,
  memoryStore,
  type SessionRequirement,
} from '../src/index.ts';
import { actionClient, cliResumes, type FakePolicy, readGare } from '../src/testing/index.ts';
import { harness, recordingFetch, startGlobus } from './support/globus.ts';
import { mint, SCOPE, testAuth, USERS, urn } from './support/identities.ts';
import { description } from './support/providers.ts';
import { listen } from './support/transports.ts';

const ROUTES = [
  { name: 'legacy routes', routes: 'legacy' as const },
  { name: '/actions routes', routes: 'actions' as const },
];
/** How long `globusAuth` keeps an introspection: a new login is seen by the same token after it. */
const INTROSPECTION_TTL = 30_000;
const HA_POLICY: FakePolicy = {
  id: '7c1d2f0e-0000-4000-8000-0000000000a1',
  high_assurance: true,
  authentication_assurance_timeout: 600,
  domain_constraints_include: ['uchicago.edu'],
};
/** The creator's own identity is from example.org; a linked one is from uchicago.edu. */
const USERS_WITH_DOMAINS = [
  { id: USERS.creator, username: 'creator@example.org', linked: [USERS.creatorLinked] },
  { id: USERS.creatorLinked, username: 'creator@uchicago.edu' },
];

/** Each requirement: the option, the unmet GARE keys it answers, and the login that satisfies it. */
const REQUIREMENTS: {
  name: string;
  requirement: SessionRequirement;
  unmet: Record<string, unknown>;
  login: { identity?: string; mfa?: boolean };
}[] = [
  {
    name: 'an identity from a domain',
    requirement: { domains: ['uchicago.edu'] },
    unmet: { session_required_single_domain: ['uchicago.edu'] },
    login: { identity: USERS.creatorLinked },
  },
  {
    name: 'a given identity',
    requirement: { identities: [USERS.creatorLinked] },
    unmet: { session_required_identities: [USERS.creatorLinked] },
    login: { identity: USERS.creatorLinked },
  },
  {
    name: 'a given identity, by username',
    requirement: { identities: ['creator@uchicago.edu'] },
    unmet: { session_required_identities: ['creator@uchicago.edu'] },
    login: { identity: USERS.creatorLinked },
  },
  {
    name: 'a multi-factor login',
    requirement: { mfa: true },
    unmet: { session_required_mfa: true },
    login: { mfa: true },
  },
  {
    name: 'a high-assurance policy',
    requirement: { policies: [HA_POLICY.id] },
    unmet: { session_required_policies: [HA_POLICY.id] },
    login: { identity: USERS.creatorLinked },
  },
];

describe.each(ROUTES)('the provider requires a session ($name)', ({ routes }) => {
  it.each(REQUIREMENTS)(
    '$name: unmet, run is a 403 with the GARE and nothing is stored; met, it runs',
    async ({ requirement, unmet, login }) => {
      const h = await harness({
        fake: { users: USERS_WITH_DOMAINS, policies: [HA_POLICY] },
        provider: { requireSession: requirement },
      });
      const token = h.token(USERS.creator);
      const client = actionClient(h.providerUrl, { token, routes });
      const refused = await client.run({ body: {}, request_id: 'r1' });
      expect(refused.status, refused.text).toBe(403);
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
      expect(refused.body).toEqual({
        code: 'AuthorizationRequired',
        description: refused.body.authorization_parameters.session_message,
        authorization_parameters: { session_message: expect.stringMatching(/^This action requires /), ...unmet },
      });
      expect(refused.text).not.toContain(token);
      // What globus-cli does with it: nothing to consent to, so it sends the user to log in.
      expect(cliResumes(readGare(refused.body)!, [])).toBe('login');
      expect((await client.enumerate()).body).toEqual([]);

      h.globus.login(USERS.creator, login);
      h.clock.advance(INTROSPECTION_TTL + 1); // the same token, introspected again, shows the new login
      const run = await client.run({ body: {}, request_id: 'r1' });
      expect(run.status, run.text).toBe(202);
      expect(run.body.status).toBe('ACTIVE');
    },
  );

  it('asks only for what is missing, with the message given', async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: { requireSession: { domains: ['uchicago.edu'], mfa: true, message: 'Log in with UChicago and MFA' } },
    });
    h.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    const token = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creator }, { identity: USERS.creatorLinked }],
    });
    const refused = await actionClient(h.providerUrl, { token, routes }).run({ body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      code: 'AuthorizationRequired',
      description: 'Log in with UChicago and MFA',
      authorization_parameters: { session_message: 'Log in with UChicago and MFA', session_required_mfa: true },
    });
  });

  it('a high-assurance login that has aged past the policy timeout no longer satisfies it', async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS, policies: [HA_POLICY] },
      provider: { requireSession: { policies: [HA_POLICY.id] } },
    });
    const fresh = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creatorLinked, time: Date.now() - 60_000 }],
    });
    const stale = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creatorLinked, time: Date.now() - 700_000 }],
    });
    expect((await actionClient(h.providerUrl, { token: fresh, routes }).run({ body: {} })).status).toBe(202);
    const refused = await actionClient(h.providerUrl, { token: stale, routes }).run({ body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.authorization_parameters.session_required_policies).toEqual([HA_POLICY.id]);
  });

  it('resume of an INACTIVE action checks it: unmet, the action stays INACTIVE with the GARE; met, resume runs', async () => {
    const resumed: string[] = [];
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        requireSession: { mfa: true },
        run: () => ({ status: 'INACTIVE', display_status: 'Awaiting approval', details: { waiting: true } }),
        resume: ({ action }) => {
          resumed.push(action.action_id);
          return { status: 'ACTIVE', details: {} };
        },
      },
    });
    const token = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creator, mfa: true }],
    });
    const client = actionClient(h.providerUrl, { token, routes });
    const second = await client.run({ body: {}, manage_by: [urn(USERS.manager)] });
    expect(second.body.status).toBe('INACTIVE');

    // A manager whose session has no MFA: the action waits for a login, saying for what.
    const manager = h.token(USERS.manager);
    const managerClient = actionClient(h.providerUrl, { token: manager, routes });
    const waiting = await managerClient.resume(second.body.action_id);
    expect(waiting.status, waiting.text).toBe(200);
    expect(waiting.body).toMatchObject({
      status: 'INACTIVE',
      display_status: 'Login required',
      details: { code: 'AuthorizationRequired', authorization_parameters: { session_required_mfa: true } },
    });
    expect(resumed).toEqual([]);
    // Resumed again, still without MFA: the same answer, and still no callback.
    expect((await managerClient.resume(second.body.action_id)).body.details).toEqual(waiting.body.details);

    h.globus.login(USERS.manager, { mfa: true });
    h.clock.advance(INTROSPECTION_TTL + 1);
    const active = await managerClient.resume(second.body.action_id);
    expect(active.body.status).toBe('ACTIVE');
    expect(resumed).toEqual([second.body.action_id]);
  });

  it('resume of an action that is not INACTIVE, by a caller whose session falls short, is a 403 with the GARE', async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: { requireSession: { mfa: true }, resume: () => ({ status: 'ACTIVE' }) },
    });
    const creator = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creator, mfa: true }],
    });
    const run = await actionClient(h.providerUrl, { token: creator, routes }).run({
      body: {},
      manage_by: [urn(USERS.manager)],
    });
    const manager = actionClient(h.providerUrl, { token: h.token(USERS.manager), routes });
    const refused = await manager.resume(run.body.action_id);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'AuthorizationRequired',
      authorization_parameters: { session_required_mfa: true },
    });
    // Reading and stopping are not held up: status and cancel go through.
    expect((await manager.status(run.body.action_id)).status).toBe(200);
    expect((await manager.cancel(run.body.action_id)).body.status).toBe('FAILED');
  });
});

describe.each(ROUTES)('callbacks require a session ($name)', ({ routes }) => {
  it("run's requireSession, for this input only: a 403 with the GARE, nothing stored", async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        run: async ({ request, requireSession }) => {
          if (request.body['sensitive'] === true) await requireSession({ domains: ['uchicago.edu'], mfa: true });
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const client = actionClient(h.providerUrl, { token: h.token(USERS.creator), routes });
    expect((await client.run({ body: { sensitive: false } })).status).toBe(202);
    const refused = await client.run({ body: { sensitive: true } });
    expect(refused.status, refused.text).toBe(403);
    expect(readGare(refused.body)).toEqual({
      code: 'AuthorizationRequired',
      authorization_parameters: {
        session_message: expect.any(String),
        session_required_single_domain: ['uchicago.edu'],
        session_required_mfa: true,
      },
    });
    expect((await client.enumerate({ status: 'SUCCEEDED' })).body).toHaveLength(1);
  });

  it('a status callback needing a login makes the action INACTIVE with the GARE; after the login, resume continues it', async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        run: () => ({ status: 'ACTIVE', details: {} }),
        status: async ({ requireSession }) => {
          await requireSession({ mfa: true, message: 'Confirm with MFA to see the results' });
          return { status: 'SUCCEEDED', details: { results: 42 } };
        },
        resume: () => ({ status: 'ACTIVE', display_status: 'Resumed' }),
      },
    });
    const token = h.token(USERS.creator);
    const client = actionClient(h.providerUrl, { token, routes });
    const run = await client.run({ body: {} });
    const id = run.body.action_id;
    const inactive = await client.status(id);
    expect(inactive.body).toMatchObject({ status: 'INACTIVE', display_status: 'Login required' });
    expect(inactive.body.details).toEqual({
      code: 'AuthorizationRequired',
      description: 'Confirm with MFA to see the results',
      authorization_parameters: { session_message: 'Confirm with MFA to see the results', session_required_mfa: true },
    });
    expect(cliResumes(readGare(inactive.body.details)!, [])).toBe('login');
    // Before the login: resume leaves it INACTIVE, asking the same.
    const early = await client.resume(id);
    expect(early.body).toMatchObject({ status: 'INACTIVE', details: inactive.body.details });

    h.globus.login(USERS.creator, { mfa: true });
    h.clock.advance(INTROSPECTION_TTL + 1);
    expect((await client.resume(id)).body).toMatchObject({ status: 'ACTIVE', display_status: 'Resumed' });
    expect((await client.status(id)).body).toMatchObject({ status: 'SUCCEEDED', details: { results: 42 } });
  });

  it('once the login is there the GARE leaves the details: a resume that keeps the action INACTIVE is not called again by every poll', async () => {
    let resumes = 0;
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        run: () => ({ status: 'ACTIVE' }),
        status: async ({ action, requireSession }) => {
          await requireSession({ mfa: true });
          return { status: action.status };
        },
        resume: () => {
          resumes++;
          return { status: 'INACTIVE', display_status: 'Waiting for the instrument' };
        },
      },
    });
    const client = actionClient(h.providerUrl, { token: h.token(USERS.creator), routes });
    const id = (await client.run({ body: {} })).body.action_id;
    expect((await client.status(id)).body.details.code).toBe('AuthorizationRequired');
    h.globus.login(USERS.creator, { mfa: true });
    h.clock.advance(INTROSPECTION_TTL + 1);
    const resumed = await client.resume(id);
    expect(resumed.body).toMatchObject({
      status: 'INACTIVE',
      display_status: 'Waiting for the instrument',
      details: {},
    });
    for (let i = 0; i < 3; i++) expect((await client.status(id)).body.status).toBe('INACTIVE');
    expect(resumes).toBe(1);
  });

  it('AuthorizationRequiredError keeps only what clients read; a consent passed on keeps the legacy key too', async () => {
    const odd = new AuthorizationRequiredError({
      session_required_mfa: true,
      session_required_policies: 'p1,p2',
      extra: () => 1,
    } as never);
    expect(odd.parameters).toEqual({ session_required_mfa: true, session_required_policies: ['p1', 'p2'] });
    const consent = AuthorizationRequiredError.from({
      errors: [{ code: 'DEPENDENT_CONSENT_REQUIRED', unapproved_scopes: ['s[t]'] }],
    });
    const h = await harness({
      provider: {
        run: () => ({ status: 'ACTIVE' }),
        status: () => {
          throw consent;
        },
      },
    });
    const client = actionClient(h.providerUrl, { token: h.token(USERS.creator), routes });
    const id = (await client.run({ body: {} })).body.action_id;
    expect((await client.status(id)).body.details).toEqual({
      code: 'ConsentRequired',
      description: 'The user must consent to s[t] before this action can continue',
      required_scope: 's[t]',
      authorization_parameters: { required_scopes: ['s[t]'] },
    });
  });

  it("work passing on a downstream service's GARE waits INACTIVE; once the user logs in, a status poll (as Flows polls) continues it", async () => {
    let loggedIn = false;
    const attempts: number[] = [];
    const transferGare = {
      code: 'AuthorizationRequired',
      authorization_parameters: {
        session_message: 'The collection requires a recent login with uchicago.edu',
        session_required_single_domain: ['uchicago.edu'],
      },
    };
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        store: memoryStore(),
        run: () => ({ status: 'ACTIVE', details: {} }),
        work: ({ attempt }) => {
          attempts.push(attempt);
          // A stand-in for Transfer, which answers the GARE until the user logs in again.
          if (!loggedIn) throw AuthorizationRequiredError.from(transferGare);
          return { status: 'SUCCEEDED', details: { transferred: true } };
        },
      },
    });
    const token = h.token(USERS.creator);
    const client = actionClient(h.providerUrl, { token, routes });
    const monitor = actionClient(h.providerUrl, { token: h.token(USERS.monitor), routes });
    const run = await client.run({ body: {}, monitor_by: [urn(USERS.monitor)] });
    const id = run.body.action_id;
    const inactive = await waitForStatus(client, id, 'INACTIVE');
    expect(inactive.details).toEqual({
      ...transferGare,
      description: transferGare.authorization_parameters.session_message,
    });
    expect(inactive.display_status).toBe('Login required');

    // The monitor has a UChicago login but may not manage the action: a poll of theirs changes nothing.
    h.globus.login(USERS.monitor, { identity: USERS.creatorLinked });
    h.clock.advance(INTROSPECTION_TTL + 1);
    expect((await monitor.status(id)).body.status).toBe('INACTIVE');
    // Still not the creator's session either: polling keeps it waiting.
    expect((await client.status(id)).body.status).toBe('INACTIVE');

    loggedIn = true;
    h.globus.login(USERS.creator, { identity: USERS.creatorLinked });
    h.clock.advance(INTROSPECTION_TTL + 1);
    const polled = await client.status(id);
    expect(polled.body.status).toBe('ACTIVE');
    expect((await waitForStatus(client, id, 'SUCCEEDED')).details).toEqual({ transferred: true });
    expect(attempts.length).toBe(2);
  });
});

describe('what introspection asks Globus for', () => {
  it('without a requirement, only linked identities (as the Python toolkit), and no other call', async () => {
    const recorded = recordingFetch();
    const h = await harness({ auth: { fetch: recorded } });
    const client = h.client(h.token(USERS.creator));
    const run = await client.run({ body: {} });
    await client.status(run.body.action_id);
    const introspections = recorded.requests.filter((r) => r.url.endsWith('/v2/oauth2/token/introspect'));
    expect(introspections).toHaveLength(1);
    const form = new URLSearchParams(introspections[0]!.body);
    expect(form.get('include')).toBe('identity_set');
    expect(form.has('authentication_policies')).toBe(false);
  });

  it("with the provider's requirement, the session and policies come with the one introspection per token", async () => {
    const recorded = recordingFetch();
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS, policies: [HA_POLICY] },
      auth: { fetch: recorded },
      provider: { requireSession: { policies: [HA_POLICY.id] }, resume: () => ({ status: 'ACTIVE' }) },
    });
    const token = h.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      session: [{ identity: USERS.creatorLinked }],
    });
    const client = h.client(token);
    const run = await client.run({ body: {} });
    expect(run.status, run.text).toBe(202);
    await client.status(run.body.action_id);
    await client.resume(run.body.action_id);
    const introspections = recorded.requests.filter((r) => r.url.endsWith('/v2/oauth2/token/introspect'));
    expect(introspections).toHaveLength(1);
    const form = new URLSearchParams(introspections[0]!.body);
    expect(form.get('include')).toBe('identity_set,identity_set_detail,session_info');
    expect(form.get('authentication_policies')).toBe(HA_POLICY.id);
  });

  it("a callback's requirement alone costs one more introspection per token, cached as the first", async () => {
    const h = await harness({
      fake: { users: USERS_WITH_DOMAINS },
      provider: {
        run: async ({ requireSession }) => {
          await requireSession({ identities: ['creator@example.org'] });
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const client = h.client(h.token(USERS.creator));
    h.globus.resetCalls();
    expect((await client.run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.introspect).toBe(2);
    expect((await client.run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('Globus down when the session is needed: a 503 within the timeout, no crash', async () => {
    const h = await harness({
      auth: { timeout: 1_000 },
      provider: {
        run: async ({ requireSession }) => {
          await requireSession({ mfa: true });
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const client = h.client(h.token(USERS.creator));
    await client.enumerate();
    h.globus.fail('introspect', { status: 502 });
    const started = Date.now();
    const answer = await client.run({ body: {} });
    expect(answer.status, answer.text).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('Globus down while an INACTIVE action waiting on a login is polled: the stored status, not a 503', async () => {
    let down = false;
    // Globus answers introspection, except the one asking for the session while `down`.
    const fetcher = recordingFetch((r) =>
      down && r.body.includes('session_info')
        ? new Response('upstream trouble', { status: 502 })
        : fetch(r.url, { method: r.method, headers: r.headers, body: r.body }),
    );
    const h = await harness({
      auth: { timeout: 1_000, fetch: fetcher },
      provider: {
        store: memoryStore(),
        run: () => ({ status: 'ACTIVE' }),
        work: () => {
          throw new AuthorizationRequiredError({ session_required_mfa: true });
        },
      },
    });
    const client = h.client(h.token(USERS.creator));
    const run = await client.run({ body: {} });
    await waitForStatus(client, run.body.action_id, 'INACTIVE');
    down = true;
    h.clock.advance(INTROSPECTION_TTL + 1); // past the cached session: the next check must ask Globus
    const polled = await client.status(run.body.action_id);
    expect(polled.status, polled.text).toBe(200);
    expect(polled.body).toMatchObject({ status: 'INACTIVE', details: { code: 'AuthorizationRequired' } });
    // A resume, which must know the session, is the 503.
    expect((await client.resume(run.body.action_id)).status).toBe(503);
  });

  it('a malformed session in the introspection answer satisfies nothing: a 403, not a 500', async () => {
    const h = await harness({ provider: { requireSession: { mfa: true, domains: ['uchicago.edu'] } } });
    const token = h.token(USERS.creator);
    h.globus.fail('introspect', {
      status: 200,
      times: 1,
      body: JSON.stringify({
        active: true,
        sub: USERS.creator,
        scope: SCOPE,
        username: 42,
        identity_set: [USERS.creator],
        identity_set_detail: 'nope',
        session_info: { authentications: [{ amr: 'mfa' }], session_id: 7 },
        policy_evaluations: ['x'],
      }),
    });
    const answer = await h.client(token).run({ body: {} });
    expect(answer.status, answer.text).toBe(403);
    expect(answer.body.authorization_parameters).toMatchObject({
      session_required_mfa: true,
      session_required_single_domain: ['uchicago.edu'],
    });
  });
});

describe('unmetRequirement, the check itself', () => {
  const ID = '6ac8ab52-e5c1-4f0e-9d2a-bf0c3a1d2e3f';
  const session = {
    authentications: [{ identity: urn(ID), username: 'Someone@UChicago.edu', mfa: false }],
    policies: { p1: true, p2: false },
  };
  it('compares ids without regard to case, usernames and domains likewise; policies one by one', () => {
    expect(unmetRequirement({ identities: [`urn:globus:auth:identity:${ID.toUpperCase()}`] }, session)).toBeUndefined();
    expect(
      unmetRequirement({ identities: ['someone@uchicago.edu'], domains: ['uchicago.edu'] }, session),
    ).toBeUndefined();
    expect(unmetRequirement({ policies: ['p1', 'p2', 'p3'], mfa: true }, session)).toEqual({
      session_message: expect.any(String),
      session_required_mfa: true,
      session_required_policies: ['p2', 'p3'],
    });
  });
  it('a policy named like an Object property is not taken as evaluated', () => {
    expect(unmetRequirement({ policies: ['constructor', 'toString'] }, session)?.session_required_policies).toEqual([
      'constructor',
      'toString',
    ]);
  });
});

describe('one globusAuth, several providers', () => {
  it('one asking for MFA, one for nothing: one introspection per token serves both, each checks its own', async () => {
    const { globus, url } = await startGlobus({ users: USERS_WITH_DOMAINS });
    const auth = globusAuth(globus.authOptions(url));
    const strict = createActionProvider({
      description: description({ title: 'Strict' }),
      auth,
      requireSession: { mfa: true },
      run: () => ({ status: 'SUCCEEDED' }),
    });
    const relaxed = createActionProvider({
      description: description({ title: 'Relaxed' }),
      auth,
      run: () => ({ status: 'SUCCEEDED' }),
    });
    const servers = [await listen(strict), await listen(relaxed)];
    onTestFinished(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });
    const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    globus.resetCalls();
    expect((await actionClient(servers[1]!.url, { token }).run({ body: {} })).status).toBe(202);
    expect((await actionClient(servers[0]!.url, { token }).run({ body: {} })).status).toBe(403);
    expect(globus.calls.introspect).toBe(1);
  });
});

describe('authenticators without sessions, and bad requirements', () => {
  it("with jwtAuth, the session is the token's own login (amr, auth_time, preferred_username); policies are never met", async () => {
    const provider = createActionProvider({
      description: description(),
      auth: testAuth(),
      requireSession: { mfa: true, domains: ['uchicago.edu'] },
      run: async ({ request, requireSession }) => {
        if (request.body['policy'] === true) await requireSession({ policies: ['p1'] });
        return { status: 'SUCCEEDED' };
      },
    });
    const server = await listen(provider);
    onTestFinished(() => server.close());
    const plain = await mint(USERS.creator);
    const refused = await actionClient(server.url, { token: plain }).run({ body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.authorization_parameters).toMatchObject({
      session_required_mfa: true,
      session_required_single_domain: ['uchicago.edu'],
    });
    const strong = await mint(USERS.creator, {
      claims: { amr: ['pwd', 'mfa'], auth_time: Math.floor(Date.now() / 1000), preferred_username: 'c@uchicago.edu' },
    });
    const client = actionClient(server.url, { token: strong });
    expect((await client.run({ body: {} })).status).toBe(202);
    const policy = await client.run({ body: { policy: true } });
    expect(policy.status).toBe(403);
    expect(policy.body.authorization_parameters).toEqual({
      session_message: expect.any(String),
      session_required_policies: ['p1'],
    });
  });

  it.each([
    [{ mfa: 'yes' }, /requireSession.mfa must be a boolean/],
    [{ domains: [] }, /requireSession.domains must be a list/],
    [{ domains: ['user@uchicago.edu'] }, /requireSession.domains has an invalid entry/],
    [{ policies: ['a,b'] }, /requireSession.policies has an invalid entry/],
    [{ identities: [''] }, /requireSession.identities has an invalid entry/],
    [{ message: 'x'.repeat(1001) }, /requireSession.message/],
    [{ mfa: true, groups: ['x'] }, /unknown key: groups/],
    ['mfa', /requireSession must be an object/],
  ])('a bad requireSession option (%j) throws at creation', (requireSession, message) => {
    expect(() =>
      createActionProvider({
        description: description(),
        auth: globusAuth({ clientId: 'c', clientSecret: 's' }),
        requireSession: requireSession as SessionRequirement,
        run: () => ({ status: 'SUCCEEDED' }),
      }),
    ).toThrow(message);
  });
});

async function waitForStatus(client: ReturnType<typeof actionClient>, id: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const answer = await client.status(id);
    if (answer.body.status === status) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`action ${id} never became ${status}`);
}
