/**
 * @module test/check-engine: `checkProvider` itself, over real HTTP to providers written by hand:
 * the request bound against a provider that takes every bad request and never completes an
 * action (each one made is counted at the server), Flows-like polling with an injected clock,
 * progress, options refused at creation, the bodies made from an input_schema, and the engine
 * on Bun and Deno.
 */
import { getRequestListener } from '@hono/node-server';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveBody, deriveInvalidBody } from '../src/check/body.ts';
import { CHECKS, type CheckProgress, checkProvider, REQUEST_BOUND } from '../src/check/index.ts';
import { MAX_POLLS } from '../src/check/steps/actions.ts';
import { CLEANUP_POLLS } from '../src/check/steps/cleanup.ts';
import { type Fault, handWrittenProvider } from './fixtures/hand-written-provider.ts';
import { harness, TRANSFER_SCOPE } from './support/globus.ts';
import { type Host, listenNode } from './support/hosts.ts';
import { USERS } from './support/identities.ts';
import { BIN, spawnProcess } from './support/processes.ts';

const alice = `alice-${crypto.randomUUID()}`;
const bob = `bob-${crypto.randomUUID()}`;
const users = { [alice]: crypto.randomUUID(), [bob]: crypto.randomUUID() };

const hosts: Host[] = [];
afterAll(() => Promise.all(hosts.map((host) => host.stop())));

/** The hand-written provider with `faults` on a real port, and every request it received (method and path). */
async function start(faults: Fault[]) {
  const app = handWrittenProvider({ users, faults });
  const received: string[] = [];
  const host = await listenNode(
    getRequestListener((request: Request) => {
      received.push(`${request.method} ${new URL(request.url).pathname}`);
      return app.fetch(request);
    }),
  );
  hosts.push(host);
  return { url: host.url, received };
}

describe('the request bound', () => {
  it('holds against a provider that takes every bad request and never completes: all it made stay listed', async () => {
    const { url, received } = await start(['never-completes', 'accepts-anything']);
    const report = await checkProvider({ url, token: alice, otherToken: bob, sleep: async () => {} });
    expect(report.summary.requests).toBe(received.length);
    expect(received.length).toBeLessThanOrEqual(REQUEST_BOUND);
    expect(report.actions.created.length).toBeGreaterThan(10);
    // Nothing could be released: each was cancelled and waited for, within the polls allowed.
    expect(report.actions.remaining.sort()).toEqual([...report.actions.created].sort());
    for (const id of report.actions.created) {
      const polls = received.filter((line) => line === `GET /${id}/status`).length;
      expect(polls).toBeLessThanOrEqual(MAX_POLLS + CLEANUP_POLLS + 5);
      expect(received).toContain(`POST /${id}/cancel`);
    }
    expect(report.checks.find((c) => c.id === 'release')).toMatchObject({
      outcome: 'not-applicable',
      reason: expect.stringMatching(/still ACTIVE when waited for/),
    });
    expect(report.checks.find((c) => c.id === 'envelope.principal')?.reason).toMatch(/started an action/);
  }, 30_000);
});

describe('waiting for an action, with an injected clock', () => {
  it('polls as Flows does, doubling from 250 ms to 8 s apart, within waitMs; the cleanup waits less', async () => {
    const { url } = await start(['never-completes']);
    let now = 0;
    const slept: number[] = [];
    const report = await checkProvider({
      url,
      token: alice,
      otherToken: bob,
      clock: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });
    const wait = [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000, 6_250];
    const cleanup = [250, 500, 1_000, 2_000, 4_000];
    // Each of the two actions is waited for before its release, then once more in the cleanup.
    expect(slept).toEqual([...wait, ...wait, ...cleanup, ...cleanup]);
    expect(wait.reduce((a, b) => a + b)).toBe(30_000);
    expect(report.actions.remaining).toHaveLength(2);
    expect(report.summary.failed).toBe(0);
  });
});

describe('progress and options', () => {
  it('tells each check once, in the order decided, counting up to the whole catalog', async () => {
    const { url } = await start([]);
    const told: CheckProgress[] = [];
    const report = await checkProvider({ url, token: alice, otherToken: bob, onProgress: (p) => told.push(p) });
    expect(told.map((p) => p.done)).toEqual(CHECKS.map((_c, i) => i + 1));
    expect(new Set(told.map((p) => p.total))).toEqual(new Set([CHECKS.length]));
    expect(told.map((p) => p.id).sort()).toEqual(CHECKS.map((c) => c.id).sort());
    expect(report.ok).toBe(true);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a URL that is not http', { url: 'ftp://example.org/' }, /url must be an http or https URL/],
    ['no URL at all', { url: 'not a url' }, /url must be an absolute/],
    ['a URL with a query', { url: 'http://127.0.0.1/?a=1' }, /url must have no query/],
    ['a URL with credentials', { url: 'http://user:pw@127.0.0.1/' }, /url must carry no credentials/],
    ['a token with a space', { url: 'http://127.0.0.1/', token: 'a b' }, /token must be/],
    ['the same token twice', { url: 'http://127.0.0.1/', token: 'a', otherToken: 'a' }, /otherToken must be another/],
    ['a body that is an array', { url: 'http://127.0.0.1/', body: [] }, /body must be a JSON object/],
    ['a fetch that is no function', { url: 'http://127.0.0.1/', fetch: 'x' }, /fetch must be a function/],
    ['a zero timeout', { url: 'http://127.0.0.1/', timeoutMs: 0 }, /timeoutMs must be/],
    ['a negative wait', { url: 'http://127.0.0.1/', waitMs: -1 }, /waitMs must be/],
  ];
  it.each(bad)('refuses %s at once, with a TypeError naming it', (_name, options, message) => {
    expect(() => checkProvider(options as never)).toThrow(TypeError);
    expect(() => checkProvider(options as never)).toThrow(message);
  });
});

describe('our toolkit behind Globus Auth (the fake Globus over HTTP), asking for a consent', () => {
  it('passes every check that applies, gare.shape included: its INACTIVE actions and its 403 carry a GARE clients read', async () => {
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          await caller.tokenFor(TRANSFER_SCOPE);
          return { status: 'SUCCEEDED' };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE], unconsented: [TRANSFER_SCOPE] });
    const report = await checkProvider({
      url: h.providerUrl,
      token,
      otherToken: h.token(USERS.stranger),
      sleep: async () => {},
    });
    expect(report.checks.filter((c) => c.outcome === 'fail')).toEqual([]);
    expect(Object.fromEntries(report.checks.filter((c) => c.outcome !== 'pass').map((c) => [c.id, c.reason]))).toEqual({
      // This provider has no log and takes any body.
      log: expect.stringMatching(/log_supported/),
      'actions.log': expect.stringMatching(/log_supported/),
      'input.invalid': expect.stringMatching(/accepts every body/),
      // Listing by monitor_by and manage_by needs the caller's groups, so a dependent token: a consent first.
      'actions.list': 'the provider asks the caller to consent or log in first (ConsentRequired); see gare.shape',
    });
    expect(report.checks.find((c) => c.id === 'gare.shape')?.outcome).toBe('pass');
    expect(report.actions.remaining).toEqual([]);
  });
});

describe('a provider that never stops answering', () => {
  it('is read up to 1 MiB, so it cannot fill memory: its description fails, nothing else is sent', async () => {
    let chunks = 0;
    const host = await listenNode((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const write = () => {
        chunks++;
        if (!response.destroyed && response.write(chunk)) setImmediate(write);
        else if (!response.destroyed) response.once('drain', write);
      };
      write();
    });
    hosts.push(host);
    const report = await checkProvider({ url: host.url, token: alice });
    expect(report.summary.requests).toBe(1);
    const introspection = report.checks.find((c) => c.id === 'introspection');
    expect(introspection?.outcome).toBe('fail');
    expect(introspection?.exchanges?.[0]?.answer).toMatchObject({ status: 200, truncated: true });
    expect(chunks).toBeLessThan(1_000);
  });
});

describe('redaction', () => {
  it('replaces tokens however short without breaking what it reads: answers are parsed as received', async () => {
    const { url } = await start(['leaky-401']);
    const short = handWrittenProvider({
      users: { a: crypto.randomUUID(), b: crypto.randomUUID() },
      faults: ['leaky-401'],
    });
    const host = await listenNode(getRequestListener(short.fetch));
    hosts.push(host);
    const report = await checkProvider({ url: host.url, token: 'a', otherToken: 'b' });
    expect(report.checks.filter((c) => c.outcome === 'fail').map((c) => c.id)).toEqual(
      CHECKS.map((c) => c.id).filter((id) => /^isolation\.(actions\.)?(status|log|cancel|resume|release)$/.test(id)),
    );
    // The leaky provider quotes the caller's token in its 401: neither the exchanges nor the reasons keep it.
    const long = await checkProvider({ url, token: alice, otherToken: bob });
    const text = JSON.stringify(long);
    expect(text).toContain('Token <other token> may not see action');
    expect(text).not.toContain(bob);
    expect(text).not.toContain(alice);
  });
});

describe('the body made from input_schema', () => {
  it('fills the required properties of a simple schema, from const, enum, default, examples or the type', () => {
    const schema = {
      type: 'object',
      required: ['text', 'count', 'flag', 'kind', 'fixed', 'given', 'nested', 'list'],
      properties: {
        text: { type: 'string', minLength: 2 },
        count: { type: 'integer', minimum: 3 },
        flag: { type: 'boolean' },
        kind: { enum: ['a', 'b'] },
        fixed: { const: 42 },
        given: { type: 'string', default: 'dflt', pattern: '^d' },
        nested: { type: 'object', required: ['inner'], properties: { inner: { type: 'number' } } },
        list: { type: 'array', minItems: 1, items: { type: 'string', examples: ['ex'] } },
        optional: { type: 'string', pattern: '^x$' },
      },
      additionalProperties: false,
    };
    expect(deriveBody(schema)).toEqual({
      ok: true,
      body: {
        text: 'globus-action-provider check',
        count: 3,
        flag: false,
        kind: 'a',
        fixed: 42,
        given: 'dflt',
        nested: { inner: 0 },
        list: ['ex'],
      },
    });
    expect(deriveBody(undefined)).toEqual({ ok: true, body: {} });
    expect(deriveBody({ type: 'object' })).toEqual({ ok: true, body: {} });
  });

  it('gives up on what it cannot read (a pattern to match, a $ref, a oneOf), and on what fails the schema', () => {
    const notSimple = /not simple enough/;
    expect(
      deriveBody({ type: 'object', required: ['a'], properties: { a: { type: 'string', pattern: '^z' } } }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(notSimple) });
    expect(deriveBody({ type: 'object', required: ['a'], properties: { a: { $ref: '#/$defs/a' } } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(notSimple),
    });
    expect(deriveBody({ oneOf: [{ required: ['a'] }, { required: ['b'] }] })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(notSimple),
    });
    expect(deriveBody({ type: 'object', minProperties: 1 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/passes it/),
    });
  });

  it('makes a body the schema refuses, close to the valid one, or says there is none', () => {
    const schema = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } };
    expect(deriveInvalidBody(schema, { name: 'x' })).toEqual({ ok: true, body: {} });
    const typed = { type: 'object', properties: { n: { type: 'number' } } };
    expect(deriveInvalidBody(typed, {})).toEqual({ ok: true, body: { n: 'not a number' } });
    const closed = { type: 'object', additionalProperties: false };
    expect(deriveInvalidBody(closed, {})).toEqual({ ok: true, body: { globus_action_provider_check: true } });
    expect(deriveInvalidBody({ type: 'object' }, {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/accepts every body/),
    });
  });
});

describe('the engine on other runtimes (Web-standard only)', () => {
  const RUNTIMES: [string, string, string[]][] = [
    ['Bun', BIN('bun'), ['test/fixtures/check-runtime.ts']],
    ['Deno', BIN('deno'), ['run', '--allow-net', '--allow-env', 'test/fixtures/check-runtime.ts']],
  ];
  it.each(RUNTIMES)(
    '%s: checks a provider and finds no failure in the correct one, the isolation failures in the leaky one',
    async (_name, command, args) => {
      for (const [faults, failed] of [
        [[], 0],
        [['leaky-401'], 10],
      ] as const) {
        const { url } = await start([...faults]);
        const child = await spawnProcess(command, args, {
          env: { CHECK_URL: url, CHECK_TOKEN: alice, CHECK_OTHER_TOKEN: bob },
          ready: /^\{.*\}$/m,
          timeout: 30_000,
        });
        await child.exited;
        const line =
          child
            .output()
            .split('\n')
            .find((l) => l.startsWith('{')) ?? '{}';
        const result = JSON.parse(line) as { summary: { failed: number }; failed: string[] };
        expect(result.summary.failed).toBe(failed);
        if (failed > 0) expect(result.failed.every((id) => id.startsWith('isolation.'))).toBe(true);
      }
    },
    60_000,
  );
});
