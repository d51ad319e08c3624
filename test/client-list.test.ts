/**
 * @module test/client-list: the typed client's `list` over real HTTP: `list()` follows every
 * page to the last (as it answered everything before providers paged), `listPage` reads one,
 * `listPages` walks them and can stop or resume; a provider that does not page (the Python
 * toolkit's) is one page; one whose marker never advances is an error, not an endless loop.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../adapters/node.ts';
import { type ActionProviderClient, actionProviderClient, isActionProviderError } from '../src/client/index.ts';
import { type ActionStatus, type ActionStore, memoryStore } from '../src/index.ts';
import { tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { listen } from './support/transports.ts';

const T = await tokens();
const COUNT = 2_345;

let server: RunningServer;
let store: ActionStore;
let newestFirst: string[];
const client = (token = T.creator): ActionProviderClient => actionProviderClient(server.url, { token });

beforeAll(async () => {
  store = memoryStore();
  const records = Array.from({ length: COUNT }, (_, i) =>
    record({
      creator_id: urn(i % 2 === 0 ? USERS.creator : USERS.creatorLinked),
      ...(i % 5 === 0 ? { status: 'SUCCEEDED' as const } : {}),
    }),
  );
  for (const r of records) await store.create(r);
  newestFirst = records
    .filter((r) => r.status === 'ACTIVE')
    .map((r) => r.action_id)
    .reverse();
  server = await listen(testProvider({ store }));
  return () => server.close();
});

const idsOf = (actions: ActionStatus[]) => actions.map((a) => a.action_id);

describe('actionProviderClient list', () => {
  it('list() answers every action, each page followed, newest first; limit sets the page size only', async () => {
    expect(newestFirst.length).toBeGreaterThan(1000);
    expect(idsOf(await client().list())).toEqual(newestFirst);
    expect(idsOf(await client().list({ limit: 97 }))).toEqual(newestFirst);
    const done = await client().list({ status: 'SUCCEEDED' });
    expect(done).toHaveLength(COUNT / 5);
    expect(done.every((a) => a.status === 'SUCCEEDED')).toBe(true);
  });

  it('listPage answers one page and its marker; listPages walks them, stops early, and resumes from a marker', async () => {
    const first = await client().listPage({ limit: 10 });
    expect(idsOf(first.actions)).toEqual(newestFirst.slice(0, 10));
    expect(first.marker).toEqual(expect.any(String));
    const second = await client().listPage({ limit: 10, marker: first.marker });
    expect(idsOf(second.actions)).toEqual(newestFirst.slice(10, 20));

    const seen: string[] = [];
    let pages = 0;
    let resumeAt: string | undefined;
    for await (const page of client().listPages({ limit: 400 })) {
      seen.push(...idsOf(page.actions));
      resumeAt = page.marker;
      if (++pages === 2) break;
    }
    expect(seen).toEqual(newestFirst.slice(0, 800));
    const rest: string[] = [];
    for await (const page of client().listPages({ limit: 400, marker: resumeAt })) rest.push(...idsOf(page.actions));
    expect([...seen, ...rest]).toEqual(newestFirst);

    // 1,876 ACTIVE actions: two pages of 1,000 (the provider's default), the second the last.
    const one = await client().listPage();
    const two = await client().listPage({ marker: one.marker });
    expect(one.actions).toHaveLength(1000);
    expect(two.marker).toBeUndefined();
    expect([...idsOf(one.actions), ...idsOf(two.actions)]).toEqual(newestFirst);
  });

  it('rejects a bad limit or marker before sending, and passes the provider’s 422 for a marker not its own', async () => {
    await expect(client().listPage({ limit: 0 })).rejects.toThrow(TypeError);
    await expect(client().list({ limit: 1.5 })).rejects.toThrow(/limit must be a whole number/);
    await expect(client().listPage({ marker: '' })).rejects.toThrow(/marker/);
    const refused = await client()
      .listPage({ marker: 'not-ours' })
      .catch((error: unknown) => error);
    expect(isActionProviderError(refused) && refused.code).toBe('RequestValidationError');
    expect(isActionProviderError(refused) && refused.status).toBe(422);
  });
});

describe('against providers that page otherwise', () => {
  /** A provider of our wire shape whose answers are chosen per request by `answer`. */
  async function fake(
    answer: (url: URL) => { body: unknown; marker?: string },
  ): Promise<{ url: string; close(): Promise<void> }> {
    const http = createServer((req, res) => {
      const { body, marker } = answer(new URL(req.url ?? '/', 'http://x'));
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(marker === undefined ? {} : { 'x-next-marker': marker }),
      });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => http.close(() => resolve())),
    };
  }
  const status = (id: string): ActionStatus => ({
    action_id: id,
    status: 'ACTIVE',
    creator_id: urn(USERS.creator),
    label: null,
    monitor_by: [],
    manage_by: [],
    start_time: '2026-01-01T00:00:00.000+00:00',
    completion_time: null,
    release_after: 'P30D',
    display_status: 'ACTIVE',
    details: {},
  });

  it('one that does not page (the Python toolkit): its whole array is the one page', async () => {
    const seen: string[] = [];
    const provider = await fake((url) => {
      seen.push(url.search);
      return { body: [status('a'), status('b')] };
    });
    try {
      const c = actionProviderClient(provider.url, { token: 't' });
      expect(idsOf(await c.list())).toEqual(['a', 'b']);
      expect(await c.listPage()).toEqual({ actions: [status('a'), status('b')] });
      expect(seen).toEqual(['', '']);
    } finally {
      await provider.close();
    }
  });

  it('one whose marker never advances: UnexpectedResponse rather than a loop for ever', async () => {
    const provider = await fake((url) => ({
      body: [status(url.searchParams.get('marker') ?? 'first')],
      marker: 'same',
    }));
    try {
      const c = actionProviderClient(provider.url, { token: 't' });
      const failure = await c.list().catch((error: unknown) => error);
      expect(isActionProviderError(failure) && failure.code).toBe('UnexpectedResponse');
      expect(String((failure as Error).message)).toMatch(/do not advance/);
    } finally {
      await provider.close();
    }
  });
});
