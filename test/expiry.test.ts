/**
 * @module test/expiry: release_after with an injected clock on every store (memory, SQLite,
 * PostgreSQL): a completed action is served until release_after has passed, then 404 before
 * anything deletes it; `provider.sweep()` deletes it; ACTIVE actions never expire. And the
 * sweepers that run on their own: the Node, Bun and Deno adapters' `sweepInterval`, and the
 * `scheduled` handler of a Worker on D1.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { serve } from '../adapters/node.ts';
import { type ActionStore, memoryStore } from '../src/index.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import { BIN, bundleWorker, exampleEnv, ROOT, spawnHost } from './conformance/hosts.ts';
import { type Call, caller, mint, rid, testAuth, testProvider, USERS } from './helpers.ts';
import { sleep, stopProcess, uniqueName, waitFor } from './process-support.ts';

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

async function start(call: Call, token: string, status: 'ACTIVE' | 'SUCCEEDED', releaseAfter: string): Promise<string> {
  const reply = await call('POST', '/run', {
    token,
    body: { request_id: rid(), body: { status }, release_after: releaseAfter },
  });
  expect(reply.status).toBe(202);
  expect(reply.json).toMatchObject({ status, release_after: releaseAfter });
  return reply.json.action_id as string;
}

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
    call: caller(provider),
    at: (ms: number) => {
      now = ms;
    },
  };
}

describe.each(STORES)('expiry with an injected clock: %s', (_name, makeStore) => {
  it('serves a completed action until release_after has passed, 404 from then on before any sweep; sweep() deletes it and counts', async () => {
    const { store, t0, provider, call, at } = await clocked(makeStore);
    const token = await mint(USERS.creator);

    const soon = await start(call, token, 'SUCCEEDED', 'PT60S');
    const later = await start(call, token, 'SUCCEEDED', 'PT120S');
    expect((await call('GET', `/${soon}/status`, { token })).json.completion_time).toBe(formatTime(t0));

    at(t0 + 59_000);
    expect((await call('GET', `/${soon}/status`, { token })).status).toBe(200);
    expect(await provider.sweep()).toBe(0);
    expect(await store.get(soon)).toBeDefined();

    at(t0 + 60_000);
    for (const path of [`/${soon}/status`, `/actions/${soon}`]) {
      const reply = await call('GET', path, { token });
      expect(reply.status).toBe(404);
      expect(reply.json.code).toBe('ActionNotFound');
    }
    expect((await call('POST', `/${soon}/release`, { token })).status).toBe(404);
    expect(
      (await call('GET', '/actions?status=succeeded', { token })).json.map((a: { action_id: string }) => a.action_id),
    ).toEqual([later]);
    // Not served, yet still stored: nothing has swept.
    expect(await store.get(soon)).toMatchObject({ action_id: soon, expires_at: t0 + 60_000 });

    expect(await provider.sweep()).toBe(1);
    expect(await store.get(soon)).toBeUndefined();
    expect(await store.get(later)).toBeDefined();
    expect((await call('GET', `/${later}/status`, { token })).status).toBe(200);
    expect(await provider.sweep()).toBe(0);

    at(t0 + 120_000);
    expect((await call('GET', `/${later}/status`, { token })).status).toBe(404);
    expect(await provider.sweep()).toBe(1);
    expect(await store.get(later)).toBeUndefined();
  });

  it('never expires an ACTIVE action; its release_after counts from completion', async () => {
    const { store, t0, provider, call, at } = await clocked(makeStore);
    const token = await mint(USERS.creator, { expiresIn: '500d' });

    const active = await start(call, token, 'ACTIVE', 'PT60S');
    const done = await start(call, token, 'SUCCEEDED', 'PT60S');
    at(t0 + 400 * DAY);
    expect(await provider.sweep()).toBe(1); // `done` only
    expect(await store.get(done)).toBeUndefined();
    const reply = await call('GET', `/${active}/status`, { token });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ status: 'ACTIVE', completion_time: null });
    expect(await store.get(active)).toMatchObject({ status: 'ACTIVE', expires_at: null });

    await provider.actions.update(active, { status: 'SUCCEEDED' });
    at(t0 + 400 * DAY + 59_999);
    expect(await provider.sweep()).toBe(0);
    expect((await call('GET', `/${active}/status`, { token })).json).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: formatTime(t0 + 400 * DAY),
    });
    at(t0 + 400 * DAY + 60_000);
    expect((await call('GET', `/${active}/status`, { token })).status).toBe(404);
    expect(await provider.sweep()).toBe(1);
    expect(await store.get(active)).toBeUndefined();
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
    const call = caller(server.url);
    const token = await mint(USERS.creator, { expiresIn: '500d' });

    const done = await start(call, token, 'SUCCEEDED', 'PT60S');
    const active = await start(call, token, 'ACTIVE', 'PT60S');
    expect(await waitFor(() => sweeps >= 3)).toBe(true);
    expect(await store.get(done)).toBeDefined(); // swept, but not expired yet

    now = t0 + 60_000;
    expect(await waitFor(async () => (await store.get(done)) === undefined, 3_000)).toBe(true);
    now = t0 + 400 * DAY;
    const before = sweeps;
    expect(await waitFor(() => sweeps >= before + 3)).toBe(true);
    expect(await store.get(active)).toMatchObject({ status: 'ACTIVE' });
    expect((await call('GET', `/${active}/status`, { token })).status).toBe(200);

    const last = await start(call, token, 'SUCCEEDED', 'PT60S');
    await server.close();
    const after = sweeps;
    now += 60_000;
    await sleep(300);
    expect(sweeps).toBe(after);
    expect(await store.get(last)).toBeDefined();
    expect(await provider.sweep()).toBe(1); // it was due: only the stopped sweeper left it
  });

  it('leaves nothing that keeps the process alive after close()', async () => {
    const env = await exampleEnv();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sweep-then-close.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env, TOKEN: await mint(USERS.creator) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let closedAt = Number.NaN;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (Number.isNaN(closedAt) && output.includes('closed')) closedAt = performance.now();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = once(child, 'exit');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: 'swept\nclosed' });
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
    cleanups.push(() => stopProcess(host));
    const file = join(dataDir, 'actions.db');
    const call = caller(host.url);
    const token = await mint(USERS.creator);

    const done = await start(call, token, 'SUCCEEDED', 'PT60S');
    const active = await start(call, token, 'ACTIVE', 'PT60S');
    await sleep(300); // six sweeps: nothing is due yet
    expect(storedIds(file).sort()).toEqual([done, active].sort());

    expect((await fetch(`${host.url}/__clock`, { method: 'POST', body: String(61_000) })).status).toBe(200);
    expect(await waitFor(() => !storedIds(file).includes(done), 5_000)).toBe(true);
    expect((await call('GET', `/${done}/status`, { token })).status).toBe(404);
    expect((await fetch(`${host.url}/__clock`, { method: 'POST', body: String(400 * DAY) })).status).toBe(200);
    await sleep(300);
    expect(storedIds(file)).toEqual([active]);
    expect((await call('GET', `/${active}/status`, { token })).json).toMatchObject({ status: 'ACTIVE' });
  }, 60_000);
});

describe('the Worker scheduled handler', () => {
  it('deletes expired D1 actions when the Cron Trigger fires, and never an ACTIVE one', async () => {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({
      modules: true,
      script: new TextDecoder().decode(await bundleWorker('test/fixtures/sweeping-worker.ts')),
      compatibilityDate: '2026-04-01',
      bindings: await exampleEnv(),
      d1Databases: ['DB'],
      port: 0,
      host: '127.0.0.1',
    });
    cleanups.push(() => mf.dispose());
    const url = (await mf.ready).href.replace(/\/$/, '');
    const call = caller(url);
    const token = await mint(USERS.creator);
    const d1 = await mf.getD1Database('DB');
    const ids = async () =>
      ((await d1.prepare('SELECT action_id FROM gap_actions').all()).results as { action_id: string }[])
        .map((r) => r.action_id)
        .sort();
    // Miniflare's Fetcher type does not carry scheduled(); the runtime object does.
    type Scheduler = { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
    const scheduled = async () => ((await mf.getWorker()) as unknown as Scheduler).scheduled({ cron: '0 * * * *' });

    const done = await start(call, token, 'SUCCEEDED', 'PT60S');
    const active = await start(call, token, 'ACTIVE', 'PT60S');
    expect((await scheduled()).outcome).toBe('ok');
    expect(await ids()).toEqual([done, active].sort());

    expect((await fetch(`${url}/__clock`, { method: 'POST', body: String(61_000) })).status).toBe(200);
    expect((await call('GET', `/${done}/status`, { token })).status).toBe(404);
    expect(await ids()).toEqual([done, active].sort()); // expired, not yet swept
    expect((await scheduled()).outcome).toBe('ok');
    expect(await waitFor(async () => !(await ids()).includes(done), 5_000)).toBe(true);
    expect(await ids()).toEqual([active]);

    expect((await fetch(`${url}/__clock`, { method: 'POST', body: String(400 * DAY) })).status).toBe(200);
    expect((await scheduled()).outcome).toBe('ok');
    expect(await ids()).toEqual([active]);
    expect((await call('GET', `/${active}/status`, { token })).json).toMatchObject({ status: 'ACTIVE' });
  }, 60_000);
});
