/**
 * @module test/offline-tokens: tokens that outlive the request (`keepTokens` in run, `keptToken`
 * later) with `globusAuth` against the fake Globus Auth over real HTTP: obtained with
 * access_type=offline and sealed in the record, refreshed in `work` after the access token
 * expired and the refreshed set stored (a second instance on the same SQLite file uses it, with
 * and without rotating refresh tokens), one refresh for concurrent calls, never in an answer or
 * a log, tampering detected, keys rotated, a refused refresh → INACTIVE → the creator's resume
 * renews them, Globus unreachable → the work retried, revoked on completion and release, and the
 * options and misuses refused with clear errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  type ActionContext,
  type ActionProvider,
  type ActionRecord,
  type ActionStore,
  createActionProvider,
  GROUPS_SCOPE,
  globusAuth,
  memoryStore,
  type ProviderOptions,
  type RunContext,
  type WorkContext,
} from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { type ActionClient, actionClient, type FakeGlobus } from '../src/testing/index.ts';
import { resolveTokenKeys } from '../src/tokens/keys.ts';
import { openTokens, type TokenSet } from '../src/tokens/seal.ts';
import { gate } from './support/async.ts';
import { type ManualClock, manualClock, recordingFetch, startGlobus, TRANSFER_SCOPE } from './support/globus.ts';
import { SCOPE, testAuth, tokens, USERS, urn } from './support/identities.ts';
import { type CapturingLogger, captureLogger } from './support/logger.ts';
import { description } from './support/providers.ts';
import { listen } from './support/transports.ts';

const HOUR = 3600_000;
/** Past the fake's default dependent token lifetime (48 h). */
const EXPIRED = 49 * HOUR;
const FAST = { heartbeat: 50, lease: 500, retryDelay: 10, pollInterval: 20, shutdownGrace: 200 };

const newKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const KEY = newKey();

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-tokens-'));
  dirs.push(dir);
  return join(dir, 'actions.db');
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

interface World {
  globus: FakeGlobus;
  globusUrl: string;
  clock: ManualClock;
}

/** The fake Globus on a real port, on a clock the test moves (the provider's own clock stays real). */
async function world(options: { rotate?: boolean; latency?: number } = {}): Promise<World> {
  const clock = manualClock();
  const { globus, url } = await startGlobus({
    clock,
    rotateRefreshTokens: options.rotate ?? false,
    ...(options.latency === undefined ? {} : { latency: options.latency }),
  });
  return { globus, globusUrl: url, clock };
}

interface Served {
  provider: ActionProvider;
  url: string;
  logger: CapturingLogger;
  /** The library's client as a fresh token of `user` (the creator by default). */
  client(user?: string): ActionClient;
}

/** A provider with globusAuth (on the world's clock) and a tokenKey, served over real HTTP. */
async function serve(w: World, options: Partial<ProviderOptions> & { store?: ActionStore }): Promise<Served> {
  const logger = captureLogger();
  const provider = createActionProvider({
    description: description({ title: 'Offline tokens test provider' }),
    auth: globusAuth({ ...w.globus.authOptions(w.globusUrl), clock: w.clock }),
    tokenKey: KEY,
    logger,
    run: async ({ keepTokens }: RunContext) => {
      await keepTokens([TRANSFER_SCOPE]);
      return { status: 'ACTIVE' };
    },
    ...(options.work === undefined ? {} : { worker: FAST }),
    ...options,
  } as ProviderOptions);
  const server = await listen(provider);
  onTestFinished(async () => {
    await server.close();
    await provider.close().catch(() => {}); // a test may have closed it already (a restart)
  });
  return {
    provider,
    url: server.url,
    logger,
    client: (user = USERS.creator) =>
      actionClient(server.url, {
        token: w.globus.issueToken({
          user,
          scopes: [SCOPE],
          dependentScopes: [TRANSFER_SCOPE, GROUPS_SCOPE],
          expiresIn: 30 * 24 * 3600, // outlives every jump of the clock
        }),
      }),
  };
}

async function started(client: ActionClient): Promise<any> {
  const reply = await client.run({ body: {} });
  expect(reply.status, reply.text).toBe(202);
  return reply.body;
}

const settled = (client: ActionClient, id: string) =>
  until(async () => {
    const { body } = await client.status(id);
    return body.status === 'ACTIVE' ? undefined : body;
  });

/** Ask the fake, over HTTP, whether a token is active. */
async function active(w: World, token: string): Promise<boolean> {
  const response = await fetch(`${w.globusUrl}/v2/oauth2/token/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${w.globus.client.id}:${w.globus.client.secret}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  return ((await response.json()) as { active: boolean }).active;
}

const keyring = (key: string | string[] = KEY) =>
  resolveTokenKeys(key) as NonNullable<ReturnType<typeof resolveTokenKeys>>;

async function storedRecord(provider: ActionProvider, id: string): Promise<ActionRecord> {
  const record = await provider.store.get(id);
  if (record === undefined) throw new Error(`no record ${id}`);
  return record;
}

async function keptSet(provider: ActionProvider, id: string, key: string | string[] = KEY): Promise<TokenSet> {
  const sealed = (await storedRecord(provider, id)).offline_tokens;
  if (typeof sealed !== 'string') throw new Error(`action ${id} keeps no tokens`);
  return openTokens(keyring(key), id, sealed);
}

/** Every secret a set holds. */
const secrets = (set: TokenSet) => set.tokens.flatMap((t) => [t.access_token, t.refresh_token]);

type Engine = { name: string; store: () => Promise<ActionStore> };
const ENGINES: Engine[] = [
  { name: 'memory', store: async () => memoryStore() },
  { name: 'sqlite', store: () => openSqliteStore(tempFile()) },
];

describe('keepTokens in run', () => {
  it('keeps the named scopes sealed in the record (the others revoked at once), never in an answer, a view or a log', async () => {
    const w = await world();
    const s = await serve(w, {});
    const client = s.client();
    const action = await started(client);
    const record = await storedRecord(s.provider, action.action_id);
    expect(record.offline_tokens).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    const set = await keptSet(s.provider, action.action_id);
    expect(set.scopes).toEqual([TRANSFER_SCOPE]);
    expect(set.tokens).toHaveLength(1);
    expect(set.tokens[0]).toMatchObject({ resource_server: 'transfer.api.globus.org', scopes: [TRANSFER_SCOPE] });
    // Only the transfer refresh token is live: the Groups one was granted too, and revoked.
    expect(w.globus.liveRefreshTokens()).toEqual([set.tokens[0]?.refresh_token]);
    expect(await active(w, set.tokens[0]!.access_token)).toBe(true);

    const sealed = record.offline_tokens as string;
    const answers = [
      (await client.status(action.action_id)).text,
      (await client.enumerate()).text,
      JSON.stringify(await s.provider.actions.get(action.action_id)),
      JSON.stringify(await s.provider.actions.list()),
      s.logger.text(),
    ];
    for (const text of answers) {
      expect(text).not.toContain(sealed);
      expect(text).not.toContain('offline_tokens');
      for (const secret of secrets(set)) expect(text).not.toContain(secret);
    }
  });

  it('asks Globus Auth as documented: access_type=offline, grant_type=refresh_token, revocation of each token', async () => {
    const w = await world();
    const record = recordingFetch();
    const s = await serve(w, {
      auth: globusAuth({ ...w.globus.authOptions(w.globusUrl), clock: w.clock, fetch: record }),
      status: async ({ keptToken }: ActionContext) => {
        await keptToken(TRANSFER_SCOPE);
        return { status: 'SUCCEEDED' };
      },
    });
    const client = s.client();
    const action = await started(client);
    const set = await keptSet(s.provider, action.action_id);
    w.clock.advance(EXPIRED);
    expect((await client.status(action.action_id)).body.status).toBe('SUCCEEDED');
    const basic = `Basic ${btoa(`${w.globus.client.id}:${w.globus.client.secret}`)}`;
    const sent = record.requests.filter((r) => !r.url.endsWith('/introspect'));
    for (const r of sent) {
      expect(r.method).toBe('POST');
      expect(r.headers.get('authorization')).toBe(basic);
      expect(r.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    }
    const forms = sent.map((r) => ({
      path: new URL(r.url).pathname,
      form: Object.fromEntries(new URLSearchParams(r.body)),
    }));
    expect(forms[0]).toEqual({
      path: '/v2/oauth2/token',
      form: {
        grant_type: 'urn:globus:auth:grant_type:dependent_token',
        token: expect.any(String),
        access_type: 'offline',
      },
    });
    const refresh = forms.find((f) => f.form['grant_type'] === 'refresh_token');
    expect(refresh).toEqual({
      path: '/v2/oauth2/token',
      form: { grant_type: 'refresh_token', refresh_token: set.tokens[0]?.refresh_token },
    });
    const revoked = forms.filter((f) => f.path === '/v2/oauth2/token/revoke').map((f) => f.form['token']);
    // The Groups pair granted but not asked for, at once; at completion, the refresh token and the new access token.
    expect(revoked).toHaveLength(4);
    expect(revoked).toContain(set.tokens[0]?.refresh_token);
    expect(forms.every((f) => Object.keys(f.form).length <= 3)).toBe(true);
  });

  it('keeps every dependent scope when run names none, and resolves to the scopes kept', async () => {
    const w = await world();
    let kept: string[] = [];
    const s = await serve(w, {
      run: async ({ keepTokens }) => {
        kept = await keepTokens();
        return { status: 'ACTIVE' };
      },
    });
    const action = await started(s.client());
    expect(kept.sort()).toEqual([GROUPS_SCOPE, TRANSFER_SCOPE].sort());
    const set = await keptSet(s.provider, action.action_id);
    expect(set.scopes).toBeNull();
    expect(set.tokens.map((t) => t.resource_server).sort()).toEqual([
      'groups.api.globus.org',
      'transfer.api.globus.org',
    ]);
    expect(w.globus.liveRefreshTokens()).toHaveLength(2);
  });

  it('revokes what it kept when run completes the action at once, or fails', async () => {
    const w = await world();
    const s = await serve(w, {
      run: async ({ keepTokens, request }) => {
        await keepTokens([TRANSFER_SCOPE]);
        if (request.body['fail'] === true) throw new Error('run broke after keeping tokens');
        return { status: 'SUCCEEDED' };
      },
    });
    const client = s.client();
    const done = await started(client);
    expect(done.status).toBe('SUCCEEDED');
    expect((await storedRecord(s.provider, done.action_id)).offline_tokens).toBeNull();
    expect(w.globus.liveRefreshTokens()).toEqual([]);
    const failed = await client.run({ body: { fail: true } });
    expect(failed.status).toBe(500);
    expect(w.globus.liveRefreshTokens()).toEqual([]);
    expect(w.globus.revocations).toBeGreaterThanOrEqual(4); // both pairs (refresh and access token) of each run
  });

  it('without consent to a named scope: INACTIVE asking for it; after consent, the creator resumes and the tokens are kept', async () => {
    const w = await world();
    const used: string[] = [];
    const s = await serve(w, {
      work: async ({ keptToken }: WorkContext) => {
        used.push(await keptToken(TRANSFER_SCOPE));
        return { status: 'SUCCEEDED' };
      },
    });
    const unconsented = w.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      dependentScopes: [TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const action = await started(actionClient(s.url, { token: unconsented }));
    expect(action).toMatchObject({
      status: 'INACTIVE',
      details: { code: 'ConsentRequired', required_scope: `${SCOPE}[${TRANSFER_SCOPE}]` },
    });
    const client = s.client(); // the user consented: a new token
    const resumed = await client.resume(action.action_id);
    expect(resumed.status, resumed.text).toBe(200);
    expect((await settled(client, action.action_id)).status).toBe('SUCCEEDED');
    expect(used).toHaveLength(1);
    await until(() => w.globus.liveRefreshTokens().length === 0);
  });
});

describe.each(ENGINES)('keptToken in work ($name)', (engine) => {
  it('refreshes the access token once it expired, stores the refreshed set, and revokes it all on completion', async () => {
    const w = await world();
    const seen: string[] = [];
    const later = gate();
    const checked = gate();
    const s = await serve(w, {
      store: await engine.store(),
      work: async ({ keptToken }: WorkContext) => {
        seen.push(await keptToken(TRANSFER_SCOPE));
        await later.promise;
        seen.push(await keptToken('transfer.api.globus.org')); // a resource server works too
        await checked.promise;
        return { status: 'SUCCEEDED', details: { calls: seen.length } };
      },
    });
    const client = s.client();
    const action = await started(client);
    await until(() => seen.length === 1);
    const first = await keptSet(s.provider, action.action_id);
    expect(seen[0]).toBe(first.tokens[0]?.access_token); // fresh: no refresh
    const grants = w.globus.calls.token;
    w.clock.advance(EXPIRED);
    expect(await active(w, seen[0]!)).toBe(false);
    later.open();
    await until(() => seen.length === 2);
    expect(w.globus.calls.token).toBe(grants + 1); // one refresh grant
    expect(seen[1]).not.toBe(seen[0]);
    expect(await active(w, seen[1]!)).toBe(true);
    const refreshed = await keptSet(s.provider, action.action_id);
    expect(refreshed.tokens[0]?.access_token).toBe(seen[1]);
    expect(refreshed.tokens[0]?.refresh_token).toBe(first.tokens[0]?.refresh_token); // not rotating
    expect(refreshed.tokens[0]?.expires_at).toBeGreaterThan(w.clock() + 47 * HOUR);
    checked.open();
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED', details: { calls: 2 } });
    expect((await storedRecord(s.provider, action.action_id)).offline_tokens).toBeNull();
    await until(() => w.globus.liveRefreshTokens().length === 0);
    expect(await active(w, seen[1]!)).toBe(false);
    for (const secret of [...secrets(first), ...secrets(refreshed)]) expect(s.logger.text()).not.toContain(secret);
  });

  it('shares one refresh among concurrent calls', async () => {
    const w = await world();
    const later = gate();
    let got: string[] = [];
    const s = await serve(w, {
      store: await engine.store(),
      work: async ({ keptToken }: WorkContext) => {
        await later.promise;
        got = await Promise.all(Array.from({ length: 8 }, () => keptToken(TRANSFER_SCOPE)));
        return { status: 'SUCCEEDED' };
      },
    });
    const client = s.client();
    const action = await started(client);
    w.clock.advance(EXPIRED);
    const grants = w.globus.calls.token;
    later.open();
    expect((await settled(client, action.action_id)).status).toBe('SUCCEEDED');
    expect(w.globus.calls.token).toBe(grants + 1);
    expect(new Set(got).size).toBe(1);
  });

  it('a refused refresh makes the action INACTIVE asking for consent; the creator resumes, new tokens are kept, the work completes', async () => {
    const w = await world();
    const attempts: string[] = [];
    const s = await serve(w, {
      store: await engine.store(),
      work: async ({ keptToken }: WorkContext) => {
        attempts.push(await keptToken(TRANSFER_SCOPE));
        return { status: 'SUCCEEDED' };
      },
      run: async ({ keepTokens }) => {
        await keepTokens([TRANSFER_SCOPE]);
        w.clock.advance(EXPIRED); // the work will find the access token expired
        for (const token of w.globus.liveRefreshTokens()) w.globus.revoke(token); // the user withdrew consent
        return { status: 'ACTIVE' };
      },
    });
    const client = s.client();
    const action = await started(client);
    const inactive = await settled(client, action.action_id);
    expect(inactive).toMatchObject({
      status: 'INACTIVE',
      display_status: 'Consent required',
      details: { code: 'ConsentRequired', required_scope: `${SCOPE}[${TRANSFER_SCOPE}]` },
    });
    expect(attempts).toEqual([]);
    expect(s.logger.lines.some((l) => l.message.includes('refused a kept refresh token'))).toBe(true);
    const before = (await storedRecord(s.provider, action.action_id)).offline_tokens;
    const resumed = await client.resume(action.action_id);
    expect(resumed.status, resumed.text).toBe(200);
    expect((await settled(client, action.action_id)).status).toBe('SUCCEEDED');
    expect(attempts).toHaveLength(1);
    expect(await storedRecord(s.provider, action.action_id)).toMatchObject({ offline_tokens: null });
    expect(before).not.toBeNull();
    await until(() => w.globus.liveRefreshTokens().length === 0);
  });

  it('a refused refresh token is asked of Globus once, however often status polls (no call, no log line after)', async () => {
    const w = await world();
    const s = await serve(w, {
      store: await engine.store(),
      run: async ({ keepTokens }) => {
        await keepTokens([TRANSFER_SCOPE]);
        w.clock.advance(EXPIRED);
        for (const token of w.globus.liveRefreshTokens()) w.globus.revoke(token);
        return { status: 'ACTIVE' };
      },
      status: async ({ keptToken }) => {
        await keptToken(TRANSFER_SCOPE);
        return { status: 'ACTIVE' };
      },
    });
    const client = s.client();
    const action = await started(client);
    const grants = w.globus.calls.token;
    for (let i = 0; i < 5; i++) {
      const reply = await client.status(action.action_id);
      expect(reply.body).toMatchObject({ status: 'INACTIVE', details: { code: 'ConsentRequired' } });
    }
    expect(w.globus.calls.token).toBe(grants + 1);
    expect(s.logger.lines.filter((l) => l.message.includes('refused a kept refresh token'))).toHaveLength(1);
  });

  it('retries the work while Globus Auth is unreachable, then refreshes', async () => {
    const w = await world();
    const attempts: number[] = [];
    const s = await serve(w, {
      store: await engine.store(),
      run: async ({ keepTokens }) => {
        await keepTokens([TRANSFER_SCOPE]);
        w.clock.advance(EXPIRED);
        w.globus.fail('token', { status: 503, times: 2 }); // globusAuth tries each call twice
        return { status: 'ACTIVE' };
      },
      work: async ({ keptToken, attempt }: WorkContext) => {
        attempts.push(attempt);
        await keptToken(TRANSFER_SCOPE);
        return { status: 'SUCCEEDED', details: { attempt } };
      },
    });
    const client = s.client();
    const action = await started(client);
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 2 } });
    expect(attempts).toEqual([1, 2]);
    const failure = s.logger.lines.find((l) => l.message === 'background work failed');
    expect(failure?.fields?.['error']).toMatchObject({ code: 'ServiceUnavailable' });
  });
});

describe.each([false, true])('a restart (SQLite, rotating refresh tokens: %s)', (rotate) => {
  it('a second instance on the same file refreshes and uses the tokens the first one kept', async () => {
    const w = await world({ rotate });
    const file = tempFile();
    const began = gate();
    const first = await serve(w, {
      store: await openSqliteStore(file),
      worker: { ...FAST, lease: 60_000 },
      work: async ({ keptToken, signal }: WorkContext) => {
        await keptToken(TRANSFER_SCOPE);
        began.open();
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        throw signal.reason;
      },
    });
    const action = await started(first.client());
    await began.promise;
    const kept = await keptSet(first.provider, action.action_id);
    await first.provider.close(); // hands the work back

    w.clock.advance(EXPIRED);
    let outcome: { token: string; active: boolean; again: string; stored: TokenSet; live: string[] } | undefined;
    const second = await serve(w, {
      store: await openSqliteStore(file),
      worker: { ...FAST, lease: 60_000 },
      work: async ({ keptToken, action: view }: WorkContext) => {
        const token = await keptToken(TRANSFER_SCOPE);
        const stored = await keptSet(second.provider, view.action_id);
        const live = w.globus.liveRefreshTokens();
        const isActive = await active(w, token);
        w.clock.advance(EXPIRED); // and once more: the second refresh needs the refresh token the first one stored
        const again = await keptToken(TRANSFER_SCOPE);
        outcome = { token, active: isActive, again, stored, live };
        return { status: 'SUCCEEDED' };
      },
    });
    await second.provider.worker?.start();
    const client = second.client();
    expect((await settled(client, action.action_id)).status).toBe('SUCCEEDED');
    expect(outcome?.active).toBe(true);
    expect(outcome?.token).not.toBe(kept.tokens[0]?.access_token);
    expect(outcome?.again).not.toBe(outcome?.token);
    const original = kept.tokens[0]?.refresh_token;
    const storedRefresh = outcome?.stored.tokens[0]?.refresh_token;
    if (rotate) {
      expect(storedRefresh).not.toBe(original); // the rotated one was stored...
      expect(outcome?.live).toEqual([storedRefresh]); // ...and the used one stopped working
    } else {
      expect(storedRefresh).toBe(original);
    }
    await until(() => w.globus.liveRefreshTokens().length === 0);
    expect(await active(w, outcome!.again)).toBe(false);
  });
});

describe('keptToken in the callbacks on an existing action', () => {
  it('cancel can use them (for the creator, whoever cancels); the cancel drops and revokes them', async () => {
    const w = await world();
    let used: string | undefined;
    const s = await serve(w, {
      cancel: async ({ keptToken }: ActionContext) => {
        used = await keptToken(TRANSFER_SCOPE);
        return { status: 'FAILED', details: { canceled: true } };
      },
    });
    const client = s.client();
    const action = await started(client);
    const set = await keptSet(s.provider, action.action_id);
    const reply = await client.cancel(action.action_id);
    expect(reply.body).toMatchObject({ status: 'FAILED' });
    expect(used).toBe(set.tokens[0]?.access_token);
    expect((await storedRecord(s.provider, action.action_id)).offline_tokens).toBeNull();
    expect(w.globus.liveRefreshTokens()).toEqual([]);
    expect(await active(w, used!)).toBe(false);
  });

  it('a blob that was tampered with, or copied from another action, asks for consent again (and is logged)', async () => {
    const w = await world();
    const s = await serve(w, {
      status: async ({ keptToken }: ActionContext) => {
        await keptToken(TRANSFER_SCOPE);
        return { status: 'ACTIVE', details: { ok: true } };
      },
    });
    const client = s.client();
    const a = await started(client);
    const b = await started(client);
    expect((await client.status(a.action_id)).body.details).toEqual({ ok: true });
    const recordA = await storedRecord(s.provider, a.action_id);
    const recordB = await storedRecord(s.provider, b.action_id);
    const sealed = recordA.offline_tokens as string;
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    await s.provider.store.update({ ...recordA, offline_tokens: flipped, version: recordA.version + 1 });
    await s.provider.store.update({ ...recordB, offline_tokens: sealed, version: recordB.version + 1 });
    for (const id of [a.action_id, b.action_id]) {
      const reply = await client.status(id);
      expect(reply.body).toMatchObject({
        status: 'INACTIVE',
        details: { code: 'ConsentRequired', required_scope: `${SCOPE}[${TRANSFER_SCOPE}]` },
      });
    }
    const logged = s.logger.lines.filter((l) => l.message.includes('do not open'));
    expect(logged.map((l) => l.fields?.['reason'])).toEqual(['tampered', 'tampered']);
    expect(s.logger.text()).not.toContain(sealed);
  });

  it('two instances refreshing at once with rotating refresh tokens: the one refused takes the other’s, no consent asked', async () => {
    const w = await world({ rotate: true });
    const store = memoryStore();
    const fromA: string[] = [];
    const a = await serve(w, {
      store,
      status: async ({ keptToken }: ActionContext) => {
        fromA.push(await keptToken(TRANSFER_SCOPE));
        return { status: 'ACTIVE' };
      },
    });
    // B's refresh reaches Globus only after A has refreshed with the same refresh token and stored the rotated one.
    let actionId = '';
    let raced = false;
    const late = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (!raced && String(init?.body ?? '').includes('grant_type=refresh_token')) {
        raced = true;
        expect((await a.client().status(actionId)).body.status).toBe('ACTIVE');
      }
      return fetch(input, init);
    }) as typeof fetch;
    const later = gate();
    let fromB: string | undefined;
    const b = await serve(w, {
      store,
      auth: globusAuth({ ...w.globus.authOptions(w.globusUrl), clock: w.clock, fetch: late }),
      work: async ({ keptToken }: WorkContext) => {
        await later.promise;
        fromB = await keptToken(TRANSFER_SCOPE);
        return { status: 'SUCCEEDED' };
      },
    });
    const client = b.client();
    actionId = (await started(client)).action_id;
    w.clock.advance(EXPIRED);
    later.open();
    expect((await settled(client, actionId)).status).toBe('SUCCEEDED');
    expect(raced).toBe(true);
    // A's status callback ran twice: its refresh was a write, so its own answer was recomputed on the newer record.
    expect(new Set(fromA).size).toBe(1);
    expect(fromB).toBe(fromA[0]);
    expect(b.logger.text()).not.toMatch(/refused a kept refresh token/);
  });

  it('opens tokens sealed with an older key while tokenKey lists it; a refresh seals with the first key', async () => {
    const w = await world();
    const store = memoryStore();
    const oldKey = KEY;
    const old = await serve(w, { store });
    const action = await started(old.client());
    const sealedOld = (await storedRecord(old.provider, action.action_id)).offline_tokens as string;

    const newKey2 = newKey();
    let got: string | undefined;
    const rotated = await serve(w, {
      store,
      tokenKey: [newKey2, oldKey],
      status: async ({ keptToken }: ActionContext) => {
        got = await keptToken(TRANSFER_SCOPE);
        return { status: 'ACTIVE' };
      },
    });
    const client = rotated.client();
    expect((await client.status(action.action_id)).body.status).toBe('ACTIVE');
    expect(got).toBeDefined();
    w.clock.advance(EXPIRED);
    expect((await client.status(action.action_id)).body.status).toBe('ACTIVE');
    const resealed = (await storedRecord(rotated.provider, action.action_id)).offline_tokens as string;
    expect(resealed.split('.')[1]).not.toBe(sealedOld.split('.')[1]); // the key id of the first key now
    await expect(openTokens(keyring(newKey2), action.action_id, resealed)).resolves.toMatchObject({
      scopes: [TRANSFER_SCOPE],
    });
    await expect(openTokens(keyring(oldKey), action.action_id, resealed)).rejects.toMatchObject({
      reason: 'unknown-key',
    });
  });

  it('a manager who is not the creator resumes without renewing them', async () => {
    const w = await world();
    const s = await serve(w, {
      run: async ({ keepTokens }) => {
        await keepTokens([TRANSFER_SCOPE]);
        return { status: 'INACTIVE', details: { waiting: true } };
      },
      resume: async () => ({ status: 'INACTIVE', details: { resumed: true } }),
    });
    const creator = s.client();
    const reply = await creator.run({ body: {}, manage_by: [urn(USERS.creator), urn(USERS.manager)] });
    const id = reply.body.action_id as string;
    const before = (await storedRecord(s.provider, id)).offline_tokens;
    expect((await s.client(USERS.manager).resume(id)).status).toBe(200);
    expect((await storedRecord(s.provider, id)).offline_tokens).toBe(before);
    expect((await creator.resume(id)).status).toBe(200);
    expect((await storedRecord(s.provider, id)).offline_tokens).not.toBe(before);
    expect(w.globus.liveRefreshTokens()).toHaveLength(1); // the old one was revoked on renewal
  });

  it('release revokes tokens a completed record still holds', async () => {
    const w = await world();
    const s = await serve(w, {});
    const client = s.client();
    const action = await started(client);
    const record = await storedRecord(s.provider, action.action_id);
    // Stored otherwise than by the toolkit (a completion always drops them): still holding tokens.
    await s.provider.actions.update(action.action_id, { status: 'SUCCEEDED' });
    const completed = await storedRecord(s.provider, action.action_id);
    expect(w.globus.liveRefreshTokens()).toEqual([]);
    const set = await openTokens(keyring(), action.action_id, record.offline_tokens as string);
    await s.provider.store.update({
      ...completed,
      offline_tokens: record.offline_tokens ?? null,
      version: completed.version + 1,
    });
    const revocations = w.globus.revocations;
    expect((await client.release(action.action_id)).status).toBe(200);
    expect(w.globus.revocations).toBe(revocations + secrets(set).length);
    expect(await s.provider.store.get(action.action_id)).toBeUndefined();
  });
});

const T = await tokens();

describe('options and misuse', () => {
  const make = (options: Partial<ProviderOptions>) =>
    createActionProvider({
      description: description(),
      auth: testAuth(),
      logger: captureLogger(),
      run: () => ({ status: 'ACTIVE' }),
      ...options,
    } as ProviderOptions);

  it.each([
    ['a short key', 'c2hvcnQ='],
    ['text that is not base64', `${'x'.repeat(40)}!`],
    ['an empty list', []],
    ['a number', 42],
    ['a list with a bad key', [KEY, 'nope']],
  ])('refuses %s at creation, naming tokenKey', (_name, tokenKey) => {
    expect(() => make({ tokenKey: tokenKey as never })).toThrow(/tokenKey/);
  });

  it('refuses a CryptoKey that is not for HKDF, and takes one that is', async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const aes = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt']);
    expect(() => make({ tokenKey: aes })).toThrow(/tokenKey is a CryptoKey for AES-GCM, not for HKDF/);
    const hkdf = await crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey', 'deriveBits']);
    expect(() => make({ tokenKey: hkdf })).not.toThrow();
  });

  it('keepTokens answers 501 with an authenticator that cannot keep tokens, and 500 (logged) without tokenKey', async () => {
    const run = async ({ keepTokens }: RunContext) => {
      await keepTokens([TRANSFER_SCOPE]);
      return { status: 'ACTIVE' as const };
    };
    const jwt = make({ tokenKey: KEY, run });
    const reply = await actionClient('http://x', { token: T.creator, fetch: (r) => jwt.fetch(r) }).run({ body: {} });
    expect(reply.status).toBe(501);
    expect(reply.body.description).toMatch(/cannot keep tokens/);
    const logger = captureLogger();
    const keyless = make({ run, logger });
    const bare = await actionClient('http://x', { token: T.creator, fetch: (r) => keyless.fetch(r) }).run({ body: {} });
    expect(bare.status).toBe(500);
    expect(logger.text()).toMatch(/keepTokens: this provider has no tokenKey/);
  });

  it('a dependent scope registered without requires_refresh_token: keepTokens fails saying so (a logged 500)', async () => {
    const w = await world();
    // Globus Auth answering access_type=offline without refresh tokens, as it does for such a scope.
    const stripping = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (!String(init?.body ?? '').includes('access_type=offline')) return response;
      const items = (await response.json()) as Record<string, unknown>[];
      return Response.json(items.map(({ refresh_token: _dropped, ...item }) => item));
    }) as typeof fetch;
    const s = await serve(w, { auth: globusAuth({ ...w.globus.authOptions(w.globusUrl), fetch: stripping }) });
    const reply = await s.client().run({ body: {} });
    expect(reply.status).toBe(500);
    expect(s.logger.text()).toMatch(/without a refresh token .*requires_refresh_token: true/);
  });

  it('keptToken for a scope keepTokens did not name is the provider’s error, not a consent to ask for', async () => {
    const w = await world();
    const s = await serve(w, {
      status: async ({ keptToken }: ActionContext) => {
        await keptToken(GROUPS_SCOPE);
        return { status: 'ACTIVE' };
      },
    });
    const client = s.client();
    const action = await started(client);
    expect((await client.status(action.action_id)).status).toBe(500);
    expect(s.logger.text()).toMatch(/no token was kept for .*groups/);
  });
});
