/**
 * @module test/expiry: release_after with an injected clock, over both transports (every route
 * 404 once it has passed, before any sweep) and on every store (memory, SQLite, PostgreSQL): a
 * completed action is served until release_after has passed, then 404 before anything deletes
 * it; `provider.sweep()` deletes it; ACTIVE actions never expire. And the sweepers that run on
 * their own: the Node, Bun and Deno adapters' `sweepInterval`, and the `scheduled` handler of a
 * Worker on D1.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { serve } from '../adapters/node.ts';
import { type ActionStore, memoryStore, startSweeper } from '../src/index.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import { type ActionClient, actionClient } from '../src/testing/index.ts';
import { rid, runWithState, start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { sleep, waitFor } from './support/async.ts';
import { startWorker } from './support/hosts.ts';
import { exampleEnv, mint, testAuth, tokens, USERS } from './support/identities.ts';
import { uniqueName } from './support/postgres.ts';
import { BIN, spawnHost, spawnProcess } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { FORMS } from './support/routes.ts';
import { connect, inProcessClient, type Routes, TRANSPORTS } from './support/transports.ts';

const dir = mkdtempSync(join(tmpdir(), 'gap-expiry-'));
const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const step of cleanups.reverse()) await step();
});

const DAY = 86_400_000;
const formatTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

/** run answers with the status the body names. */
const run = ({ request }: { request: { body: unknown } }) => ({
  status: (request.body as { status: 'ACTIVE' | 'SUCCEEDED' }).status,
  details: { ran: true },
});

/** Run as `client`'s caller an action that answers `status`, with `releaseAfter`; its id. */
async function startExpiring(
  client: ActionClient,
  status: 'ACTIVE' | 'SUCCEEDED',
  releaseAfter: string,
): Promise<string> {
  const action = await start(client, { release_after: releaseAfter }, { status });
  expect(action).toMatchObject({ status, release_after: releaseAfter });
  return action.action_id as string;
}

const T = await tokens();

describe.each(TRANSPORTS)('expiry without a sweep ($name)', (transport) => {
  it('a completed action with release_after PT60S is served before 60 s and 404 after', async () => {
    let now = Date.now();
    const clock = () => now;
    const provider = testProvider({ run: runWithState, clock, auth: testAuth(clock), log: () => ({ entries: [] }) });
    const connection = await connect(transport, provider);
    const client = connection.client(T.creator);
    const request = { request_id: rid(), body: { status: 'SUCCEEDED' }, release_after: 'PT60S' };
    const created = await client.run(request);
    expect(created.status).toBe(202);
    expect(created.body.release_after).toBe('PT60S');
    const id = created.body.action_id as string;
    now += 59_999;
    expect((await connection.client(T.creator, 'actions').status(id)).status).toBe(200);
    expect((await client.enumerate({ status: 'succeeded' })).body).toHaveLength(1);
    expect(await provider.actions.get(id)).toBeDefined();
    now += 1;
    for (const forms of Object.values(FORMS)) {
      for (const f of forms) expectError(await f.send(connection, id, T.creator), 404, 'ActionNotFound');
    }
    expect((await client.enumerate({ status: 'succeeded' })).body).toEqual([]);
    expect(await provider.actions.get(id)).toBeUndefined();
    await expect(provider.actions.update(id, { details: {} })).rejects.toMatchObject({ code: 'ActionNotFound' });
    // no sweep ran: the record is still in the store, yet its request_id is free
    expect(await provider.store.get(id)).toBeDefined();
    const again = await client.run(request);
    expect(again.status).toBe(202);
    expect(again.body.action_id).not.toBe(id);
  });

  it('an active action does not expire, and its clock starts at completion', async () => {
    let now = Date.now();
    const clock = () => now;
    const provider = testProvider({ run: runWithState, clock, auth: testAuth(clock) });
    const connection = await connect(transport, provider);
    const action = await start(connection.client(T.creator), { release_after: 60 });
    expect(action.release_after).toBe('PT60S');
    const client = connection.client(T.creator, 'actions');
    now += 120_000;
    expect((await client.status(action.action_id)).status).toBe(200);
    await provider.actions.update(action.action_id, { status: 'SUCCEEDED' });
    now += 59_000;
    expect((await client.status(action.action_id)).body.status).toBe('SUCCEEDED');
    now += 1_000;
    expectError(await client.status(action.action_id), 404, 'ActionNotFound');
  });
});

const STORES: [string, () => Promise<ActionStore>][] = [
  ['memoryStore', async () => memoryStore()],
  ['sqliteStore', () => sqliteStore(new Database(join(dir, `${crypto.randomUUID()}.db`)))],
  ['postgresStore', () => postgresStore({ url: inject('databaseUrl'), tablePrefix: `${uniqueName('ex')}_`, max: 2 })],
];

/** A provider on `store` whose clock the test moves: `at(ms)` sets it, `t0` is its start. */
async function clocked(makeStore: () => Promise<ActionStore>) {
  const store = await makeStore();
  cleanups.push(() => store.close?.());
  const t0 = Date.now();
  let now = t0;
  const clock = () => now;
  const provider = testProvider({ run, clock, auth: testAuth(clock), store });
  return {
    store,
    t0,
    provider,
    client: (token: string, routes: Routes = 'legacy') => inProcessClient(provider, { token, routes }),
    at: (ms: number) => {
      now = ms;
    },
  };
}

describe.each(STORES)('expiry with an injected clock: %s', (_name, makeStore) => {
  it('serves a completed action until release_after has passed, 404 from then on before any sweep; sweep() deletes it and counts', async () => {
    const { store, t0, provider, client: as, at } = await clocked(makeStore);
    const token = await mint(USERS.creator);
    const client = as(token);

    const soon = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    const later = await startExpiring(client, 'SUCCEEDED', 'PT120S');
    expect((await client.status(soon)).body.completion_time).toBe(formatTime(t0));

    at(t0 + 59_000);
    expect((await client.status(soon)).status).toBe(200);
    expect(await provider.sweep()).toBe(0);
    expect(await store.get(soon)).toBeDefined();

    at(t0 + 60_000);
    for (const reply of [await client.status(soon), await as(token, 'actions').status(soon)]) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('ActionNotFound');
    }
    expect((await client.release(soon)).status).toBe(404);
    expect(
      (await client.enumerate({ status: 'succeeded' })).body.map((a: { action_id: string }) => a.action_id),
    ).toEqual([later]);
    // Not served, yet still stored: nothing has swept.
    expect(await store.get(soon)).toMatchObject({ action_id: soon, expires_at: t0 + 60_000 });

    expect(await provider.sweep()).toBe(1);
    expect(await store.get(soon)).toBeUndefined();
    expect(await store.get(later)).toBeDefined();
    expect((await client.status(later)).status).toBe(200);
    expect(await provider.sweep()).toBe(0);

    at(t0 + 120_000);
    expect((await client.status(later)).status).toBe(404);
    expect(await provider.sweep()).toBe(1);
    expect(await store.get(later)).toBeUndefined();
  });

  it('never expires an ACTIVE action; its release_after counts from completion', async () => {
    const { store, t0, provider, client: as, at } = await clocked(makeStore);
    const client = as(await mint(USERS.creator, { expiresIn: '500d' }));

    const active = await startExpiring(client, 'ACTIVE', 'PT60S');
    const done = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    at(t0 + 400 * DAY);
    expect(await provider.sweep()).toBe(1); // `done` only
    expect(await store.get(done)).toBeUndefined();
    const reply = await client.status(active);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'ACTIVE', completion_time: null });
    expect(await store.get(active)).toMatchObject({ status: 'ACTIVE', expires_at: null });

    await provider.actions.update(active, { status: 'SUCCEEDED' });
    at(t0 + 400 * DAY + 59_999);
    expect(await provider.sweep()).toBe(0);
    expect((await client.status(active)).body).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: formatTime(t0 + 400 * DAY),
    });
    at(t0 + 400 * DAY + 60_000);
    expect((await client.status(active)).status).toBe(404);
    expect(await provider.sweep()).toBe(1);
    expect(await store.get(active)).toBeUndefined();
  });
});

describe('startSweeper', () => {
  it('runs one sweep at a time: ticks during a slow sweep are skipped, and stop() waits only for that one', async () => {
    let sweeps = 0;
    let running = 0;
    let overlapped = false;
    const sweeper = startSweeper({
      interval: 10,
      sweep: async () => {
        sweeps++;
        overlapped ||= ++running > 1;
        await sleep(120); // a dozen ticks' worth
        running--;
        return 0;
      },
    });
    expect(await waitFor(() => sweeps === 1)).toBe(true);
    await sleep(60);
    const stopping = Date.now();
    await sweeper.stop();
    expect(Date.now() - stopping).toBeLessThan(110);
    expect(sweeps).toBe(1);
    expect(overlapped).toBe(false);
    await sleep(50);
    expect(sweeps).toBe(1);
  });
});

describe('the Node adapter sweeper', () => {
  it('serve(provider, { sweepInterval: 50 }) deletes expired actions on its own, and close() stops it', async () => {
    const t0 = Date.now();
    let now = t0;
    const clock = () => now;
    const store = memoryStore();
    const provider = testProvider({ run, clock, auth: testAuth(clock), store });
    let sweeps = 0;
    const counted = {
      fetch: provider.fetch,
      sweep: () => {
        sweeps++;
        return provider.sweep();
      },
    };
    const server = await serve(counted, { port: 0, handleSignals: false, sweepInterval: 50 });
    cleanups.push(() => server.close());
    const client = actionClient(server.url, { token: await mint(USERS.creator, { expiresIn: '500d' }) });

    const done = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    const active = await startExpiring(client, 'ACTIVE', 'PT60S');
    expect(await waitFor(() => sweeps >= 3)).toBe(true);
    expect(await store.get(done)).toBeDefined(); // swept, but not expired yet

    now = t0 + 60_000;
    expect(await waitFor(async () => (await store.get(done)) === undefined, 3_000)).toBe(true);
    now = t0 + 400 * DAY;
    const before = sweeps;
    expect(await waitFor(() => sweeps >= before + 3)).toBe(true);
    expect(await store.get(active)).toMatchObject({ status: 'ACTIVE' });
    expect((await client.status(active)).status).toBe(200);

    const last = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    await server.close();
    const after = sweeps;
    now += 60_000;
    await sleep(300);
    expect(sweeps).toBe(after);
    expect(await store.get(last)).toBeDefined();
    expect(await provider.sweep()).toBe(1); // it was due: only the stopped sweeper left it
  });

  it('leaves nothing that keeps the process alive after close()', async () => {
    const spawned = await spawnProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/sweep-then-close.ts'], {
      env: { ...(await exampleEnv()), TOKEN: await mint(USERS.creator) },
    });
    let closedAt = Number.NaN;
    const watch = () => {
      if (Number.isNaN(closedAt) && spawned.output().includes('closed')) closedAt = performance.now();
    };
    spawned.child.stdout?.on('data', watch);
    spawned.child.stderr?.on('data', watch);
    const timer = setTimeout(() => spawned.child.kill('SIGKILL'), 15_000);
    const { code, signal } = await spawned.exited;
    clearTimeout(timer);
    expect({ code, signal, output: spawned.output().trim() }).toEqual({
      code: 0,
      signal: null,
      output: 'swept\nclosed',
    });
    // Promptly: not after some timer (the shutdown grace period, say) ran out.
    expect(performance.now() - closedAt).toBeLessThan(2_000);
  });
});

/** The SQLite file's action ids, read from outside the process that writes it. */
function storedIds(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT action_id FROM gap_actions').all() as { action_id: string }[]).map((r) => r.action_id);
  } finally {
    db.close();
  }
}

const RUNTIMES: [string, string, string[]][] = [
  ['Node (adapters/node.ts)', process.execPath, ['--import', 'tsx', 'test/fixtures/sweeping-runtime.ts']],
  ['Bun (adapters/bun.ts)', BIN('bun'), ['test/fixtures/sweeping-runtime.ts']],
  ['Deno (adapters/deno.ts)', BIN('deno'), ['run', '-A', 'test/fixtures/sweeping-runtime.ts']],
];

describe.each(RUNTIMES)('sweepInterval on %s', (_name, command, args) => {
  it('deletes expired actions from the SQLite file on its own, and never an ACTIVE one', async () => {
    const dataDir = mkdtempSync(join(dir, 'rt-'));
    const host = await spawnHost(command, args, { DATA_DIR: dataDir });
    cleanups.push(() => host.kill());
    const file = join(dataDir, 'actions.db');
    const client = actionClient(host.url, { token: await mint(USERS.creator) });

    const done = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    const active = await startExpiring(client, 'ACTIVE', 'PT60S');
    await sleep(300); // six sweeps: nothing is due yet
    expect(storedIds(file).sort()).toEqual([done, active].sort());

    expect((await fetch(`${host.url}/__clock`, { method: 'POST', body: String(61_000) })).status).toBe(200);
    expect(await waitFor(() => !storedIds(file).includes(done), 5_000)).toBe(true);
    expect((await client.status(done)).status).toBe(404);
    expect((await fetch(`${host.url}/__clock`, { method: 'POST', body: String(400 * DAY) })).status).toBe(200);
    await sleep(300);
    expect(storedIds(file)).toEqual([active]);
    expect((await client.status(active)).body).toMatchObject({ status: 'ACTIVE' });
  }, 60_000);
});

describe('the Worker scheduled handler', () => {
  it('deletes expired D1 actions when the Cron Trigger fires, and never an ACTIVE one', async () => {
    const host = await startWorker('test/fixtures/sweeping-worker.ts', await exampleEnv(), ['DB']);
    cleanups.push(() => host.stop());
    const { url, miniflare: mf } = host;
    const client = actionClient(url, { token: await mint(USERS.creator) });
    const d1 = await mf.getD1Database('DB');
    const ids = async () =>
      ((await d1.prepare('SELECT action_id FROM gap_actions').all()).results as { action_id: string }[])
        .map((r) => r.action_id)
        .sort();
    // Miniflare's Fetcher type does not carry scheduled(); the runtime object does.
    type Scheduler = { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
    const scheduled = async () => ((await mf.getWorker()) as unknown as Scheduler).scheduled({ cron: '0 * * * *' });

    const done = await startExpiring(client, 'SUCCEEDED', 'PT60S');
    const active = await startExpiring(client, 'ACTIVE', 'PT60S');
    expect((await scheduled()).outcome).toBe('ok');
    expect(await ids()).toEqual([done, active].sort());

    expect((await fetch(`${url}/__clock`, { method: 'POST', body: String(61_000) })).status).toBe(200);
    expect((await client.status(done)).status).toBe(404);
    expect(await ids()).toEqual([done, active].sort()); // expired, not yet swept
    expect((await scheduled()).outcome).toBe('ok');
    expect(await waitFor(async () => !(await ids()).includes(done), 5_000)).toBe(true);
    expect(await ids()).toEqual([active]);

    expect((await fetch(`${url}/__clock`, { method: 'POST', body: String(400 * DAY) })).status).toBe(200);
    expect((await scheduled()).outcome).toBe('ok');
    expect(await ids()).toEqual([active]);
    expect((await client.status(active)).body).toMatchObject({ status: 'ACTIVE' });
  }, 60_000);
});
