/**
 * @module test/gare: consent the way every Globus client reads it (GARE), with `globusAuth`
 * against the fake Globus over real HTTP: an INACTIVE action's details and the 403 of a request
 * that has no action yet carry both the legacy keys and `authorization_parameters`, in both
 * route families; globus-cli's parsing and resume rules, recorded as cases; and resume after a
 * consent given later renewing the dependent tokens before the callback runs.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS_SCOPE } from '../src/index.ts';
import { actionClient, cliResumes, readGare } from '../src/testing/index.ts';
import { harness, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, groupUrn, SCOPE, USERS } from './support/identities.ts';

const REQUIRED = `${SCOPE}[${TRANSFER_SCOPE}]`;
const ROUTES = [
  { name: 'legacy routes', routes: 'legacy' as const },
  { name: '/actions routes', routes: 'actions' as const },
];

describe.each(ROUTES)('consent required ($name)', ({ routes }) => {
  it('an action needing consent is INACTIVE with the legacy keys and the GARE, which old and new parsers read alike', async () => {
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE], unconsented: [TRANSFER_SCOPE] });
    const client = actionClientOf(h, token, routes);
    const run = await client.run({ body: {} });
    expect(run.status, run.text).toBe(202);
    expect(run.body).toMatchObject({ status: 'INACTIVE', display_status: 'Consent required' });
    const details = run.body.details;
    expect(details).toEqual({
      code: 'ConsentRequired',
      description: expect.stringContaining(TRANSFER_SCOPE),
      required_scope: REQUIRED,
      authorization_parameters: { session_message: details.description, required_scopes: [REQUIRED] },
    });
    // A GARE-reading client and a legacy one (only `required_scope`) ask for the same consent.
    const modern = readGare(details);
    const { authorization_parameters: _, ...legacyOnly } = details;
    expect(modern).toEqual({ code: 'ConsentRequired', authorization_parameters: details.authorization_parameters });
    expect(readGare(legacyOnly)).toEqual(modern);
    expect(cliResumes(modern!, [])).toBe('consent');
    expect(cliResumes(modern!, [REQUIRED])).toBe('resume');
    expect((await client.status(run.body.action_id)).body.details).toEqual(details);
  });

  it('consent needed mid-action (a status callback asking for a token) makes the action INACTIVE with the GARE', async () => {
    const h = await harness({
      provider: {
        run: () => ({ status: 'ACTIVE' }),
        status: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE], unconsented: [TRANSFER_SCOPE] });
    const client = actionClientOf(h, token, routes);
    const run = await client.run({ body: {} });
    expect(run.body.status).toBe('ACTIVE');
    const polled = await client.status(run.body.action_id);
    expect(polled.body).toMatchObject({ status: 'INACTIVE', display_status: 'Consent required' });
    expect(readGare(polled.body.details)).toEqual({
      code: 'ConsentRequired',
      authorization_parameters: { session_message: expect.any(String), required_scopes: [REQUIRED] },
    });
    expect(polled.body.details.required_scope).toBe(REQUIRED);
  });

  it('a group decision blocked by consent, before any action exists, is a 403 whose body is the GARE', async () => {
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [groupUrn(GROUPS.lab)] },
    });
    const token = h.token(USERS.member, {
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const client = actionClientOf(h, token, routes);
    for (const reply of [await client.run({ body: {} }), await client.enumerate()]) {
      expect(reply.status, reply.text).toBe(403);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(readGare(reply.body)).toEqual({
        code: 'ConsentRequired',
        authorization_parameters: { session_message: expect.any(String), required_scopes: [REQUIRED] },
      });
      expect(reply.body).toMatchObject({ required_scope: REQUIRED, description: expect.any(String) });
      expect(reply.text).not.toContain(token);
    }
    // Consent given, the same token gets through.
    h.globus.consent(USERS.member);
    expect((await client.run({ body: {} })).status).toBe(202);
  });
});

describe('resume after consent', () => {
  it('renews the dependent tokens before the callback: INACTIVE, consent in the fake, resume, ACTIVE, work continues', async () => {
    const seen: string[] = [];
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED' };
        },
        resume: async ({ caller }) => {
          seen.push(await caller.tokenFor(TRANSFER_SCOPE));
          return { status: 'ACTIVE', display_status: 'Transferring' };
        },
        status: () => ({ status: 'SUCCEEDED', details: { transferred: true } }),
      },
    });
    const token = h.token(USERS.creator, {
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const client = h.client(token);
    const run = await client.run({ body: {} });
    expect(run.body.status).toBe('INACTIVE');
    expect(readGare(run.body.details)?.code).toBe('ConsentRequired');

    h.globus.consent(USERS.creator); // the user consents; Flows resumes with the same token
    const grants = h.globus.calls.token;
    const resumed = await client.resume(run.body.action_id);
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'ACTIVE', display_status: 'Transferring' });
    expect(h.globus.calls.token).toBe(grants + 1); // one fresh grant, before the callback
    expect((await client.status(run.body.action_id)).body).toMatchObject({
      status: 'SUCCEEDED',
      details: { transferred: true },
    });
    expect(seen).toHaveLength(1); // the resume's Transfer token, from that fresh grant
  });

  it('a resume before consent stays INACTIVE with the GARE; resuming an ACTIVE action renews nothing', async () => {
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'ACTIVE' };
        },
        resume: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'ACTIVE' };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE], unconsented: [TRANSFER_SCOPE] });
    const client = h.client(token);
    const run = await client.run({ body: {} });
    const again = await client.resume(run.body.action_id);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'INACTIVE', details: { code: 'ConsentRequired' } });
    expect(readGare(again.body.details)?.authorization_parameters.required_scopes).toEqual([REQUIRED]);

    h.globus.consent(USERS.creator);
    expect((await client.resume(run.body.action_id)).body.status).toBe('ACTIVE');
    const grants = h.globus.calls.token;
    expect((await client.resume(run.body.action_id)).body.status).toBe('ACTIVE');
    expect(h.globus.calls.token).toBe(grants); // ACTIVE: a poll hint, the cached tokens stand
  });
});

describe("globus-cli's reading of requirements (recorded cases)", () => {
  it.each([
    [
      'a GARE',
      { code: 'ConsentRequired', authorization_parameters: { required_scopes: ['a[b]'] } },
      'ConsentRequired',
      ['a[b]'],
    ],
    [
      'a bare authorization_parameters error',
      { authorization_parameters: { session_required_policies: 'p1,p2' } },
      'AuthorizationRequired',
      undefined,
    ],
    ["Transfer's ConsentRequired", { code: 'ConsentRequired', required_scopes: ['x'] }, 'ConsentRequired', ['x']],
    [
      'the legacy action-provider form',
      { code: 'ConsentRequired', required_scope: 'a[b]', description: 'why' },
      'ConsentRequired',
      ['a[b]'],
    ],
    [
      "Auth's dependent_consent_required",
      { errors: [{ code: 'DEPENDENT_CONSENT_REQUIRED', unapproved_scopes: ['s'] }] },
      'ConsentRequired',
      ['s'],
    ],
  ])('reads %s', (_name, value, code, scopes) => {
    const gare = readGare(value);
    expect(gare?.code).toBe(code);
    expect(gare?.authorization_parameters.required_scopes).toEqual(scopes);
  });

  it('reads comma-joined policies and domains, and nothing from a plain error', () => {
    expect(
      readGare({ authorization_parameters: { session_required_policies: 'p1,p2' } })?.authorization_parameters,
    ).toEqual({ session_required_policies: ['p1', 'p2'] });
    expect(readGare({ code: 'ActionNotFound', description: 'No action' })).toBeUndefined();
    expect(readGare('ConsentRequired')).toBeUndefined();
  });

  it('refuses to resume once scopes are consented while another requirement stands (until a new login)', () => {
    const mfa = {
      code: 'AuthorizationRequired',
      authorization_parameters: { session_required_mfa: true, session_message: 'm' },
    };
    expect(cliResumes(readGare(mfa)!, [])).toBe('login');
    const only = {
      code: 'ConsentRequired',
      authorization_parameters: { session_message: 'm', required_scopes: ['a'] },
    };
    expect(cliResumes(readGare(only)!, ['a'])).toBe('resume');
  });
});

function actionClientOf(h: Awaited<ReturnType<typeof harness>>, token: string, routes: 'legacy' | 'actions') {
  return actionClient(h.providerUrl, { token, routes });
}
