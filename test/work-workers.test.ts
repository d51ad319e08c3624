/**
 * @module test/work-workers: background work on Cloudflare Workers, in workerd through
 * miniflare: a Durable Object per action, woken by the Worker after the D1 write and run by its
 * alarm (test/fixtures/work-worker.ts). Progress seen by polling clients, retries from the last
 * checkpoint, RetriesExhausted, cancel (told to the object, and noticed by its heartbeat alone),
 * the deadline, INACTIVE then resume, the object dying mid-work (ctx.abort(), and workerd restarted on the same
 * storage) and the work taken up again as the next attempt, a lost wake-up repaired by the Cron
 * Trigger, long work in alarm-sized slices; and the options checked at creation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { actionWorkObject, worker } from '../adapters/cloudflare-workers.ts';
import { createActionProvider, jwtAuth, memoryStore, silentLogger } from '../src/index.ts';
import { type D1Like, d1Store } from '../src/store/d1.ts';
import { actionClient, type ClientReply } from '../src/testing/index.ts';
import { sharedD1 } from './support/d1.ts';
import { applyD1Migrations } from './support/d1-migrations.ts';
import { bundleWorker } from './support/hosts.ts';
import { exampleEnv, mint, USERS } from './support/identities.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanups.reverse()) await step();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** `check()` until it returns something, within `ms`. */
async function until<T>(check: () => Promise<T | undefined>, ms = 15_000, every = 5): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(every);
  }
}

/** Measured figures, printed once at the end of the file. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.log(`work on Workers, in workerd through miniflare:\n  ${figures.join('\n  ')}`);
});

let script = '';
let token = '';
let env: Record<string, string> = {};
beforeAll(async () => {
  script = new TextDecoder().decode(await bundleWorker('test/fixtures/work-worker.ts'));
  token = await mint(USERS.creator);
  env = await exampleEnv();
});

interface Host {
  url: string;
  miniflare: Miniflare;
  db: D1Like;
  client: ReturnType<typeof actionClient>;
  stop(): Promise<void>;
}

/** The fixture Worker in workerd, its Durable Objects of `className`, its storage in `persist` if given. */
async function start(options: { className?: 'ActionWork' | 'SlicedWork'; persist?: string } = {}): Promise<Host> {
  const { className = 'ActionWork', persist } = options;
  const miniflare = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-04-01',
    bindings: { JWT_JWKS: env['JWT_JWKS'] ?? '', PROVIDER_SCOPE: env['PROVIDER_SCOPE'] ?? '' },
    d1Databases: ['DB'],
    durableObjects: { ACTION_WORK: { className, useSQLite: true } },
    ...(persist === undefined ? {} : { d1Persist: join(persist, 'd1'), durableObjectsPersist: join(persist, 'do') }),
    port: 0,
    host: '127.0.0.1',
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await miniflare.dispose();
  };
  cleanups.push(stop);
  const url = (await miniflare.ready).href.replace(/\/$/, '');
  const db = (await miniflare.getD1Database('DB')) as unknown as D1Like;
  await applyD1Migrations(db);
  await db.batch([
    db.prepare(
      'CREATE TABLE IF NOT EXISTS test_events (action_id TEXT, attempt INTEGER, kind TEXT, detail TEXT, at INTEGER)',
    ),
  ]);
  return { url, miniflare, db, client: actionClient(url, { token }), stop };
}

interface Event {
  attempt: number;
  kind: 'start' | 'abort';
  detail: unknown;
  at: number;
}
const events = async (db: D1Like, actionId: string): Promise<Event[]> =>
  (
    (await db.prepare('SELECT * FROM test_events WHERE action_id = ? ORDER BY rowid').bind(actionId).all())
      .results as Record<string, unknown>[]
  ).map((r) => ({
    attempt: Number(r['attempt']),
    kind: r['kind'] as Event['kind'],
    detail: JSON.parse(String(r['detail'])),
    at: Number(r['at']),
  }));
/** The first event matching, once it exists. */
const event = (db: D1Like, actionId: string, match: Partial<Event>) =>
  until(async () =>
    (await events(db, actionId)).find((e) =>
      Object.entries(match).every(([k, v]) => JSON.stringify(e[k as keyof Event]) === JSON.stringify(v)),
    ),
  );
const workRow = async (db: D1Like, actionId: string) =>
  ((await db.prepare('SELECT * FROM gap_work WHERE action_id = ?').bind(actionId).all()).results as any[])[0];

async function run(host: Host, body: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  const reply = await host.client.run({ body, ...envelope });
  expect(reply.status, reply.text).toBe(202);
  expect(reply.body).toMatchObject({ status: 'ACTIVE' });
  return reply.body.action_id as string;
}
const settled = (host: Host, actionId: string) =>
  until(
    async () => {
      const reply = await host.client.status(actionId);
      return reply.body.status === 'ACTIVE' ? undefined : (reply.body as ClientReply['body']);
    },
    20_000,
    20,
  );

describe('background work in a Durable Object per action (miniflare)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await start();
  });

  it("runs the work in the action's object: a polling client sees each checkpoint in order, then SUCCEEDED", async () => {
    const began = performance.now();
    const id = await run(host, { steps: 4, delay: 150 });
    const answered = performance.now() - began;
    await event(host.db, id, { kind: 'start', attempt: 1 });
    const started = performance.now() - began;
    // While it runs, the lease is held in D1 by the object's runner.
    const leased = await workRow(host.db, id);
    expect(leased).toMatchObject({ attempts: 1, lease_owner: expect.stringMatching(/^worker-/) });
    const seen: number[] = [];
    const final = await until(async () => {
      const { body } = await host.client.status(id);
      const step = body.details?.step;
      if (typeof step === 'number' && seen.at(-1) !== step) seen.push(step);
      return body.status === 'ACTIVE' ? undefined : body;
    });
    expect(final).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 1, steps: 4 } });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBeGreaterThanOrEqual(3); // 150 ms apart: polling sees (nearly) each one
    expect(await workRow(host.db, id)).toBeUndefined(); // done: the job is gone
    expect((await events(host.db, id)).filter((e) => e.kind === 'start')).toHaveLength(1);
    figures.push(`run answered in ${answered.toFixed(0)} ms; work started ${started.toFixed(0)} ms after the run`);
  });

  it('retries a failing attempt as the next one, from its last checkpoint (the alarm re-armed at retry(delay))', async () => {
    const id = await run(host, { steps: 2, failBefore: 2 });
    expect(await settled(host, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 2, steps: 2 } });
    const starts = (await events(host.db, id)).filter((e) => e.kind === 'start');
    expect(starts.map(({ attempt, detail }) => ({ attempt, detail }))).toEqual([
      { attempt: 1, detail: null },
      { attempt: 2, detail: { done: 1 } },
    ]);
  });

  it('ends FAILED with RetriesExhausted after maxAttempts (3)', async () => {
    const id = await run(host, { steps: 1, failBefore: 99 });
    expect(await settled(host, id)).toMatchObject({
      status: 'FAILED',
      details: { code: 'RetriesExhausted', attempts: 3 },
    });
    expect((await events(host.db, id)).filter((e) => e.kind === 'start').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(await workRow(host.db, id)).toBeUndefined();
  });

  it('cancel through the Worker tells the object, whose work is aborted at once', async () => {
    const id = await run(host, { hold: true });
    await event(host.db, id, { kind: 'start', attempt: 1 });
    await sleep(50);
    const began = performance.now();
    const sent = Date.now(); // workerd's clock is this machine's: comparable with the events' `at`
    const reply = await host.client.cancel(id);
    const answered = performance.now() - began;
    expect(reply.body).toMatchObject({ status: 'FAILED', details: { code: 'ActionCanceled' } });
    // Told before the answer: the abort is already recorded (or being recorded) when cancel answers.
    const abort = await event(host.db, id, { kind: 'abort', attempt: 1 });
    const aborted = performance.now() - began;
    expect(abort.detail).toBe('canceled');
    expect(aborted).toBeLessThan(1_000);
    await until(async () => ((await workRow(host.db, id)) === undefined ? true : undefined));
    expect((await host.client.status(id)).body).toMatchObject({
      status: 'FAILED',
      details: { code: 'ActionCanceled' },
    });
    figures.push(
      `cancel through the Worker: answered in ${answered.toFixed(0)} ms; signal aborted ${abort.at - sent} ms after the request (workerd's clock), seen in D1 after ${aborted.toFixed(0)} ms`,
    );
  });

  it('a cancel the object is never told of is noticed by its heartbeat (200 ms), reading D1', async () => {
    const id = await run(host, { hold: true });
    await event(host.db, id, { kind: 'start', attempt: 1 });
    const began = performance.now();
    const sent = Date.now();
    // Written straight into D1, as another deployment's Worker might: no notice reaches the object.
    await host.db
      .prepare(
        "UPDATE gap_actions SET status = 'FAILED', version = version + 1, record = json_set(record, '$.status', 'FAILED') WHERE action_id = ?",
      )
      .bind(id)
      .all();
    const abort = await event(host.db, id, { kind: 'abort', attempt: 1 });
    const noticed = performance.now() - began;
    expect(abort.detail).toBe('canceled');
    expect(noticed).toBeLessThan(2_000);
    figures.push(
      `cancel noticed by the heartbeat alone (heartbeat 200 ms): signal aborted ${abort.at - sent} ms after the D1 write, seen after ${noticed.toFixed(0)} ms`,
    );
  });

  it('fails the action at its deadline, the signal aborted with reason deadline', async () => {
    const id = await run(host, { hold: true }, { deadline: new Date(Date.now() + 1_500).toISOString() });
    const final = await settled(host, id);
    expect(final).toMatchObject({ status: 'FAILED', details: { code: 'DeadlineExceeded' } });
    expect((await event(host.db, id, { kind: 'abort' })).detail).toBe('deadline');
    await until(async () => ((await workRow(host.db, id)) === undefined ? true : undefined));
  });

  it('takes the work up again when its object dies mid-work (ctx.abort()): attempt 2, from the last checkpoint', async () => {
    const id = await run(host, { steps: 2, hold: true });
    await event(host.db, id, { kind: 'start', attempt: 1 });
    await until(async () => ((await host.client.status(id)).body.details?.step === 1 ? true : undefined));
    const began = performance.now();
    const crashed = Date.now();
    await fetch(`${host.url}/__crash?action_id=${encodeURIComponent(id)}`, { method: 'POST' });
    const again = await event(host.db, id, { kind: 'start', attempt: 2 });
    const takenUp = performance.now() - began;
    expect(again.detail).toEqual({ done: 1 });
    expect(await settled(host, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 2, steps: 2 } });
    // The dead attempt never saw its signal: it died with its isolate.
    expect((await events(host.db, id)).filter((e) => e.kind === 'abort')).toEqual([]);
    figures.push(
      `object aborted mid-work: attempt 2 started ${again.at - crashed} ms later (workerd's clock; the platform's alarm retry), seen after ${takenUp.toFixed(0)} ms`,
    );
  });

  it('work that ends INACTIVE is queued again by resume (D1 and a wake-up, as run does) and runs to the end', async () => {
    const id = await run(host, { pause: true });
    await until(async () => ((await host.client.status(id)).body.status === 'INACTIVE' ? true : undefined));
    expect(await workRow(host.db, id)).toBeUndefined(); // waiting for a person: no work queued
    expect((await host.client.resume(id)).body).toMatchObject({ status: 'ACTIVE' });
    expect(await settled(host, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 1 } });
    expect((await events(host.db, id)).map((e) => [e.kind, e.attempt, e.detail])).toEqual([
      ['start', 1, null],
      ['start', 1, { paused: true }],
    ]);
  });

  it('repairs a lost wake-up (the Worker died between D1 and the object) from the Cron Trigger', async () => {
    await fetch(`${host.url}/__drop-wakes`, { method: 'POST' });
    const id = await run(host, { steps: 1 });
    await sleep(500);
    expect(await events(host.db, id)).toEqual([]); // nothing woke its object
    expect(await workRow(host.db, id)).toMatchObject({ attempts: 0, lease_owner: null });
    type Scheduler = { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
    const worker = (await host.miniflare.getWorker()) as unknown as Scheduler;
    const began = performance.now();
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    await event(host.db, id, { kind: 'start', attempt: 1 });
    const woken = performance.now() - began;
    expect(await settled(host, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 1 } });
    figures.push(`lost wake-up: work started ${woken.toFixed(0)} ms after the Cron Trigger fired`);
  });
});

describe('background work across a workerd restart (miniflare disposed, then started again on the same storage)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-work-workers-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the work up as attempt 2 from its last checkpoint, the interrupted alarm run again', async () => {
    const first = await start({ persist: dir });
    const id = await run(first, { steps: 2, hold: true });
    await event(first.db, id, { kind: 'start', attempt: 1 });
    await until(async () => ((await first.client.status(id)).body.details?.step === 1 ? true : undefined));
    await first.stop(); // workerd goes, mid-work: no signal, no release
    const began = performance.now();
    const beganAt = Date.now();
    const second = await start({ persist: dir });
    const ready = performance.now() - began;
    const again = await event(second.db, id, { kind: 'start', attempt: 2 });
    const takenUp = performance.now() - began;
    expect(again.detail).toEqual({ done: 1 });
    expect(await settled(second, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 2, steps: 2 } });
    figures.push(
      `workerd restarted mid-work: ready in ${ready.toFixed(0)} ms, attempt 2 started ${takenUp.toFixed(0)} ms after the restart began (workerd's clock: ${again.at - beganAt} ms)`,
    );
  }, 40_000);
});

describe('long work in alarm-sized slices (maxAlarmTime 1 s)', () => {
  it('hands the work back at the end of each alarm (signal reason shutdown, attempt not counted) and goes on from its checkpoint', async () => {
    const host = await start({ className: 'SlicedWork' });
    const id = await run(host, { steps: 6, delay: 400 });
    expect(await settled(host, id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 1, steps: 6 } });
    const all = await events(host.db, id);
    const starts = all.filter((e) => e.kind === 'start');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(starts.map((e) => e.attempt))).toEqual(new Set([1])); // a slice is not an attempt
    const done = starts.map((e) => Number((e.detail as { done?: number } | null)?.done ?? 0));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(all.filter((e) => e.kind === 'abort').map((e) => e.detail)).toEqual(starts.slice(1).map(() => 'shutdown'));
    figures.push(`2.4 s of work in 1 s alarms: ${starts.length} slices`);
  }, 30_000);
});

describe('background work on Workers: options checked at creation', () => {
  const d1 = sharedD1(cleanups);
  const base = () => ({
    description: {
      title: 'T',
      globus_auth_scope: 'https://auth.globus.org/scopes/x/action_all',
      admin_contact: 'a@b.c',
    },
    auth: jwtAuth({ jwks: { keys: [] } }),
    logger: silentLogger,
    run: () => ({ status: 'ACTIVE' as const }),
    work: () => ({ status: 'SUCCEEDED' as const }),
  });

  it('a D1 store without a Durable Object namespace refuses a work callback, naming the option', async () => {
    const options = { ...base(), store: await d1Store(await d1()) };
    expect(() => createActionProvider(options)).toThrow(/d1Store\(env\.DB, \{ work: env\.ACTION_WORK \}\)/);
  });

  it('d1Store checks `work` is a namespace binding', async () => {
    await expect(d1Store(await d1(), { work: {} as never })).rejects.toThrow(
      /^work: expected a Durable Object namespace/,
    );
  });

  it('worker() refuses background work that would run on a timer in the Worker (a memory store)', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => logged.mockRestore());
    const provider = createActionProvider({ ...base(), store: memoryStore() });
    const answer = await worker(() => provider).fetch(new Request('https://w/'), {}, { waitUntil() {} });
    expect(answer.status).toBe(500);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/worker: background work on Workers runs in a Durable Object/);
    await provider.close();
  });

  it('actionWorkObject checks its factory and maxAlarmTime', () => {
    expect(() => actionWorkObject({} as never)).toThrow(/^actionWorkObject: expected the \(env\) => provider factory/);
    expect(() => actionWorkObject(() => ({}) as never, { maxAlarmTime: 900_000 })).toThrow(/^maxAlarmTime:/);
    expect(() => actionWorkObject(() => ({}) as never, { maxAlarmTime: 5 })).toThrow(/^maxAlarmTime:/);
  });
});
