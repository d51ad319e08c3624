/**
 * @module test/client: the public client (`globus-action-provider/client`) against providers on
 * a real port, in both route families: every operation answers its typed document; refusals are
 * `ActionProviderError`s with the status, the provider's code and description and the raw body
 * (404, 401, 403 with a GARE, 409, 422), as are an HTML page, a 200 that is no ActionStatus and a
 * refused connection; an INACTIVE action's requirement through `requirementOf`; a signal aborts a
 * request; options are checked at creation; and no message holds the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../adapters/node.ts';
import {
  type ActionProviderClient,
  ActionProviderError,
  actionProviderClient,
  isActionProviderError,
  requirementOf,
} from '../src/client/index.ts';
import { type Host, listenNode } from './support/hosts.ts';
import { mint, SCOPE, USERS, urn } from './support/identities.ts';
import { field, testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

const CONSENT = {
  code: 'ConsentRequired',
  description: 'The user must consent to transfer',
  required_scope: `${SCOPE}[urn:globus:auth:scope:transfer.api.globus.org:all]`,
  authorization_parameters: {
    session_message: 'The user must consent to transfer',
    required_scopes: [`${SCOPE}[urn:globus:auth:scope:transfer.api.globus.org:all]`],
  },
};

/** ACTIVE until resumed (or INACTIVE asking for consent when the body says so); a log of two pages. */
const provider = testProvider({
  run: ({ request }) =>
    field(request.body, 'consent') === true
      ? { status: 'INACTIVE', display_status: 'Consent required', details: CONSENT }
      : { status: 'ACTIVE', display_status: 'Queued', details: { got: request.body } },
  resume: () => ({ status: 'SUCCEEDED', display_status: 'Resumed', details: { resumed: true } }),
  log: ({ marker }) =>
    marker === null
      ? { entries: [{ time: '2030-01-01T00:00:00Z', message: 'first' }], has_next_page: true, marker: 'page-2' }
      : { entries: [{ time: '2030-01-01T00:00:01Z', message: 'second' }] },
});
/** Refuses any caller whose login was not multi-factor: a 403 whose body is the GARE. */
const mfaProvider = testProvider({ requireSession: { mfa: true } });

let server: RunningServer;
let mfaServer: RunningServer;
let html: Host;
let notStatus: Host;
let token: string;
let other: string;
beforeAll(async () => {
  server = await listen(provider);
  mfaServer = await listen(mfaProvider);
  // A web server that is no Action Provider: an HTML 404 page for every path.
  html = await listenNode((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
  });
  // A JSON API that answers 200 with something else entirely.
  notStatus = await listenNode((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  token = await mint(USERS.creator);
  other = await mint(USERS.stranger);
});
afterAll(async () => {
  await Promise.all([server.close(), mfaServer.close(), html.stop(), notStatus.stop()]);
});

/** What `promise` rejects with, which must be an ActionProviderError holding no token. */
async function failure(promise: Promise<unknown>): Promise<ActionProviderError> {
  const error = await promise.then(
    () => expect.unreachable('it should have failed'),
    (e: unknown) => e,
  );
  expect(isActionProviderError(error)).toBe(true);
  const seen = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)}`;
  for (const secret of [token, other]) expect(seen).not.toContain(secret);
  return error as ActionProviderError;
}

describe.each(['legacy', 'actions'] as const)('every operation, %s routes', (routes) => {
  let client: ActionProviderClient;
  beforeAll(() => {
    client = actionProviderClient(server.url, { token, routes });
  });

  it('introspect answers the description', async () => {
    const description = await client.introspect();
    expect(description).toMatchObject({ title: 'Test provider', globus_auth_scope: SCOPE, types: ['ACTION'] });
    expect(description.input_schema).toBeTypeOf('object');
  });

  it('run, status, log, list, cancel, resume and release answer typed documents', async () => {
    const ran = await client.run({ body: { n: 1 }, label: 'typed', request_id: `r-${routes}` });
    expect(ran).toMatchObject({
      status: 'ACTIVE',
      display_status: 'Queued',
      label: 'typed',
      details: { got: { n: 1 } },
    });
    expect(ran.creator_id).toBe(urn(USERS.creator));
    // The same request_id again: the same action, not a second one.
    expect((await client.run({ body: { n: 1 }, label: 'typed', request_id: `r-${routes}` })).action_id).toBe(
      ran.action_id,
    );
    expect(await client.status(ran.action_id)).toEqual(ran);
    const first = await client.log(ran.action_id, { limit: 1 });
    expect(first).toMatchObject({ entries: [{ message: 'first' }], has_next_page: true, marker: 'page-2' });
    const second = await client.log(ran.action_id, { marker: first.marker as string });
    expect(second.entries).toEqual([{ time: '2030-01-01T00:00:01Z', message: 'second' }]);
    const listed = await client.list({ status: ['ACTIVE'], roles: ['creator_id', 'manage_by'] });
    expect(listed.map((a) => a.action_id)).toContain(ran.action_id);
    expect(await client.list({ status: 'SUCCEEDED' })).toEqual([]);

    const resumed = await client.resume(ran.action_id);
    expect(resumed).toMatchObject({ status: 'SUCCEEDED', display_status: 'Resumed', details: { resumed: true } });
    const released = await client.release(ran.action_id);
    expect(released).toMatchObject({ action_id: ran.action_id, status: 'SUCCEEDED' });
    const gone = await failure(client.status(ran.action_id));
    expect(gone).toMatchObject({ status: 404, code: 'ActionNotFound' });

    const toCancel = await client.run({ body: { n: 2 } });
    expect(await client.cancel(toCancel.action_id)).toMatchObject({
      status: 'FAILED',
      details: { code: 'ActionCanceled' },
    });
  });

  it('an unknown id is ActionNotFound (404), with the raw body and where it was asked', async () => {
    const error = await failure(client.status('no-such-action'));
    expect(error).toBeInstanceOf(ActionProviderError);
    expect(error).toMatchObject({ name: 'ActionProviderError', status: 404, code: 'ActionNotFound', method: 'GET' });
    expect(error.url).toBe(
      routes === 'legacy' ? `${server.url}/no-such-action/status` : `${server.url}/actions/no-such-action`,
    );
    expect(JSON.parse(error.body as string)).toEqual({ code: 'ActionNotFound', description: error.description });
    expect(error.requirement).toBeUndefined();
    expect(error.message).toContain('404 ActionNotFound');
  });

  it('another identity sees the same 404 as for an unknown id', async () => {
    const ran = await client.run({ body: {} });
    const error = await failure(actionProviderClient(server.url, { token: other, routes }).status(ran.action_id));
    expect(error).toMatchObject({ status: 404, code: 'ActionNotFound' });
  });

  it('no token, or a bad one, is UnauthorizedRequest (401)', async () => {
    expect(await failure(actionProviderClient(server.url, { routes }).run({ body: {} }))).toMatchObject({
      status: 401,
      code: 'UnauthorizedRequest',
    });
    const bad = await failure(actionProviderClient(server.url, { routes, token: 'not-a-jwt' }).list());
    expect(bad).toMatchObject({ status: 401, code: 'UnauthorizedRequest' });
    expect(bad.message).not.toContain('not-a-jwt');
  });

  it('a request_id reused with another request is ActionConflict (409); releasing an ACTIVE action too', async () => {
    await client.run({ request_id: `c-${routes}`, body: { n: 1 } });
    const conflict = await failure(client.run({ request_id: `c-${routes}`, body: { n: 2 } }));
    expect(conflict).toMatchObject({ status: 409, code: 'ActionConflict' });
    const active = await client.run({ body: {} });
    expect(await failure(client.release(active.action_id))).toMatchObject({ status: 409, code: 'ActionConflict' });
  });

  it('an input the schema refuses is RequestValidationError (422); a body that is no object is refused too', async () => {
    const strict = testProvider({
      input: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    });
    const s = await listen(strict);
    try {
      const error = await failure(actionProviderClient(s.url, { token, routes }).run({ body: { n: 'x' } }));
      expect(error).toMatchObject({ status: 422, code: 'RequestValidationError' });
      expect(error.description).toMatch(/n/);
    } finally {
      await s.close();
    }
  });

  it('a session requirement is a 403 whose GARE is error.requirement: what the user must do', async () => {
    const error = await failure(actionProviderClient(mfaServer.url, { token, routes }).run({ body: {} }));
    expect(error).toMatchObject({ status: 403, code: 'AuthorizationRequired' });
    expect(error.requirement).toEqual({
      code: 'AuthorizationRequired',
      authorization_parameters: expect.objectContaining({ session_required_mfa: true }),
    });
    // The same token with a multi-factor login passes.
    const mfa = await mint(USERS.creator, {
      claims: { amr: ['pwd', 'mfa'], auth_time: Math.floor(Date.now() / 1000) },
    });
    expect((await actionProviderClient(mfaServer.url, { token: mfa, routes }).run({ body: {} })).status).toBe('ACTIVE');
  });

  it('an INACTIVE action asking for consent: requirementOf reads its GARE; none for other statuses', async () => {
    const inactive = await client.run({ body: { consent: true } });
    expect(inactive.status).toBe('INACTIVE');
    expect(requirementOf(inactive)).toEqual({
      code: 'ConsentRequired',
      authorization_parameters: CONSENT.authorization_parameters,
    });
    expect(requirementOf(await client.run({ body: {} }))).toBeUndefined();
    // The legacy form alone (`required_scope`) is read as the same consent.
    const { authorization_parameters: _, ...legacy } = CONSENT;
    expect(requirementOf({ status: 'INACTIVE', details: legacy })?.authorization_parameters.required_scopes).toEqual(
      CONSENT.authorization_parameters.required_scopes,
    );
  });
});

describe('answers that are no Action Provider’s', () => {
  it('an HTML 404 page: UnexpectedResponse with the status, the page title and a hint, never a crash', async () => {
    const client = actionProviderClient(`${html.url}/echo`, { token });
    const calls = [
      () => client.introspect(),
      () => client.status('x'),
      () => client.run({ body: {} }),
      () => client.list(),
    ];
    for (const call of calls) {
      const error = await failure(call());
      expect(error).toMatchObject({ status: 404, code: 'UnexpectedResponse', requirement: undefined });
      expect(error.description).toContain('text/html');
      expect(error.description).toContain('404 Not Found');
      expect(error.description).toContain(`is ${html.url}/echo/ an Action Provider?`);
      expect(error.body).toMatch(/^<!doctype html>/);
    }
  });

  it('a 200 that is no ActionStatus, or no description: UnexpectedResponse', async () => {
    const client = actionProviderClient(notStatus.url, { token });
    const error = await failure(client.status('x'));
    expect(error).toMatchObject({ status: 200, code: 'UnexpectedResponse', body: '{"ok":true}' });
    expect(error.description).toBe('expected an ActionStatus, got other JSON');
    expect(await failure(client.list())).toMatchObject({ code: 'UnexpectedResponse' });
    expect(await failure(client.log('x'))).toMatchObject({ code: 'UnexpectedResponse' });
    // Any JSON object passes for introspection: the checker, not the client, holds it to the schema.
    expect(await client.introspect()).toEqual({ ok: true });
  });

  it('a refused connection: NetworkError, without an HTTP status', async () => {
    // A port that was just listened on and is closed now: nothing answers there.
    const gone = await listen(provider);
    const url = gone.url;
    await gone.close();
    const error = await failure(actionProviderClient(url, { token }).status('x'));
    expect(error).toMatchObject({ code: 'NetworkError', status: undefined, body: undefined });
    expect(error.description).toMatch(/^no answer from http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('requirements in the shapes other services send', () => {
  let flows: Host;
  beforeAll(async () => {
    // Flows' own 403 for an unmet policy (no description), and a bare authorization_parameters body.
    flows = await listenNode((req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url === '/bare/'
            ? { authorization_parameters: { session_required_single_domain: 'uchicago.edu,example.org' } }
            : {
                code: 'AuthenticationPolicyRequired',
                authorization_parameters: { session_required_policies: ['p-1'], session_message: 'Meet the policy' },
              },
        ),
      );
    });
  });
  afterAll(() => flows.stop());

  it('a GARE with its own code and no description: that code, its session message as the description', async () => {
    const error = await failure(actionProviderClient(flows.url, { token }).introspect());
    expect(error).toMatchObject({ status: 403, code: 'AuthenticationPolicyRequired', description: 'Meet the policy' });
    expect(error.requirement?.authorization_parameters.session_required_policies).toEqual(['p-1']);
  });

  it('bare authorization_parameters: AuthorizationRequired, comma-joined domains read as a list', async () => {
    const error = await failure(actionProviderClient(`${flows.url}/bare`, { token }).introspect());
    expect(error).toMatchObject({ status: 403, code: 'AuthorizationRequired', description: 'HTTP 403' });
    expect(error.requirement).toEqual({
      code: 'AuthorizationRequired',
      authorization_parameters: { session_required_single_domain: ['uchicago.edu', 'example.org'] },
    });
  });
});

describe('a signal', () => {
  it('aborts a request under way: it rejects with the signal’s reason, not an ActionProviderError', async () => {
    const slow = testProvider({ run: () => new Promise(() => {}) });
    const s = await listen(slow);
    try {
      const controller = new AbortController();
      const reason = new Error('stop');
      const pending = actionProviderClient(s.url, { token }).run({ body: {} }, { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      await expect(pending).rejects.toBe(reason);
    } finally {
      s.server.closeAllConnections();
      await s.close();
    }
  });

  it('already aborted: no request is sent', async () => {
    const controller = new AbortController();
    controller.abort(new Error('before'));
    await expect(actionProviderClient(server.url, { token }).introspect({ signal: controller.signal })).rejects.toThrow(
      'before',
    );
  });
});

describe('options, checked at creation', () => {
  it.each([
    ['a relative URL', '/echo', {}, /baseUrl must be an absolute http\(s\) URL/],
    ['another scheme', 'ftp://example.org', {}, /baseUrl must be/],
    ['a token with a space', 'http://x', { token: 'Bearer abc' }, /token must be a bearer token/],
    ['a token with a line break', 'http://x', { token: 'abc\ndef' }, /token must be a bearer token/],
    ['an empty token', 'http://x', { token: '' }, /token must be a bearer token/],
    [
      'a user name and password in the URL',
      'http://alice:hunter2@x',
      {},
      /baseUrl must not hold a user name or password/,
    ],
    ['an unknown route family', 'http://x', { routes: 'v2' }, /routes must be 'legacy' or 'actions'/],
    ['a fetch that is no function', 'http://x', { fetch: 'fetch' }, /fetch must be a function/],
    ['a clock that is no function', 'http://x', { clock: 5 }, /clock must be a function/],
  ])('%s: a TypeError naming it', (_name, url, options, message) => {
    expect(() => actionProviderClient(url, options as never)).toThrow(TypeError);
    expect(() => actionProviderClient(url, options as never)).toThrow(message);
  });

  it('a bad token, or a password in the URL, is never repeated in the message', () => {
    expect(() => actionProviderClient('http://x', { token: 'secret value' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
    expect(() => actionProviderClient('http://alice:hunter2@x/', {})).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/alice|hunter2/) }),
    );
  });

  it('a provider prefix is kept and trailing slashes dropped', async () => {
    const prefixed = await listen(provider, '/tools/echo');
    try {
      expect(prefixed.url).toMatch(/\/tools\/echo$/);
      const client = actionProviderClient(`${prefixed.url}//`, { token });
      expect(client.url).toBe(`${prefixed.url}/`);
      expect((await client.introspect()).title).toBe('Test provider');
    } finally {
      await prefixed.close();
    }
  });
});
