/**
 * @module test/work: background work (the `work` callback) on the memory, SQLite and PostgreSQL
 * (pg-boss) engines, in process and over real HTTP: progress seen by polling clients, retries then FAILED,
 * ActionError codes kept, cancel and deadline aborting the signal, graceful shutdown handing
 * work back, take-up after a restart from the last checkpoint, resume, the operator view, and
 * the options checked at creation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import {
  ActionError,
  type ActionProvider,
  type ActionRecord,
  type ActionStore,
  memoryStore,
  type ProviderOptions,
  silentLogger,
  type WithWorkEngine,
  WORK_ENGINE,
  WorkAborted,
  type WorkContext,
} from '../src/index.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { actionClient } from '../src/testing/index.ts';
import { start } from './support/actions.ts';
import { gate, sleep, until, within } from './support/async.ts';
import { tokens } from './support/identities.ts';
import { uniqueName } from './support/postgres.ts';
import { testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { inProcessClient, listen } from './support/transports.ts';

const T = await tokens();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-work-'));
  dirs.push(dir);
  return join(dir, 'actions.db');
};

const FAST = { heartbeat: 50, lease: 500, retryDelay: 10, pollInterval: 20, shutdownGrace: 200 };

/** Stores opened for a test and not handed to a provider (which closes its own). */
const stores: ActionStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close?.().catch(() => {});
});

type Engine = { name: string; store: (file?: string) => Promise<ActionStore>; fast: typeof FAST };
const ENGINES: Engine[] = [
  { name: 'memory', store: async () => memoryStore(), fast: FAST },
  { name: 'sqlite', store: (file) => openSqliteStore(file ?? tempFile()), fast: FAST },
  {
    name: 'PostgreSQL (pg-boss)',
    // Tables, and so a queue, of its own per store; pg-boss's shortest lease is 10 s.
    store: async () => {
      const opened = await postgresStore({ url: inject('databaseUrl'), tablePrefix: `${uniqueName('w')}_` });
      stores.push(opened);
      return opened;
    },
    fast: { ...FAST, lease: 10_000, heartbeat: 200, pollInterval: 50 },
  },
];

function provider(store: ActionStore, options: Partial<ProviderOptions>, fast = FAST): ActionProvider {
  const made = testProvider({ store, worker: fast, ...options });
  onTestFinishedClose(made);
  return made;
}
const open: ActionProvider[] = [];
afterAll(async () => {
  for (const p of open) await p.close().catch(() => {});
});
function onTestFinishedClose(p: ActionProvider) {
  open.push(p);
}

const settled = (client: ReturnType<typeof inProcessClient>, id: string) =>
  until(async () => {
    const reply = await client.status(id);
    return reply.body.status === 'ACTIVE' ? undefined : reply.body;
  });

describe.each(ENGINES)('background work on $name', (engine) => {
  it('runs the work of an action run left ACTIVE, and a polling client sees each checkpoint in order', async () => {
    const steps = gate();
    const work = vi.fn(async ({ progress }: WorkContext) => {
      for (let i = 1; i <= 3; i++) {
        await progress({ display_status: `step ${i}`, details: { step: i }, state: { done: i } });
        await sleep(30);
      }
      await steps.promise;
      return { status: 'SUCCEEDED' as const, details: { result: 42 } };
    });
    const p = provider(await engine.store(), { work }, engine.fast);
    const server = await listen(p);
    onTestFinishedClose({ close: () => server.close() } as ActionProvider);
    const client = actionClient(server.url, { token: T.creator });
    const action = await start(client);
    expect(action.status).toBe('ACTIVE');
    const seen: number[] = [];
    await until(async () => {
      const { body } = await client.status(action.action_id);
      const step = body.details?.step;
      if (typeof step === 'number' && seen.at(-1) !== step) seen.push(step);
      return step === 3 ? true : undefined;
    });
    steps.open();
    const final = await settled(client as never, action.action_id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', details: { result: 42 } });
    expect(seen).toEqual([...seen].sort()); // never a regression
    expect(seen.at(-1)).toBe(3);
    expect(work).toHaveBeenCalledTimes(1);
    expect(work.mock.calls[0]?.[0]).toMatchObject({ attempt: 1, caller: { identity: action.creator_id } });
    expect(JSON.stringify(work.mock.calls[0]?.[0].caller)).not.toContain(T.creator);
  });

  it('retries a failing work with the next attempt starting from the last checkpoint', async () => {
    const attempts: { attempt: number; state: unknown }[] = [];
    const work = async ({ attempt, action, progress }: WorkContext) => {
      attempts.push({ attempt, state: action.state });
      await progress({ state: { reached: attempt } });
      if (attempt < 3) throw new Error(`flaky ${attempt}`);
      return { status: 'SUCCEEDED' as const, details: { attempt } };
    };
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED', details: { attempt: 3 } });
    expect(attempts).toEqual([
      { attempt: 1, state: null },
      { attempt: 2, state: { reached: 1 } },
      { attempt: 3, state: { reached: 2 } },
    ]);
  });

  it('ends FAILED with RetriesExhausted after maxAttempts, the error itself logged and not shown', async () => {
    const work = vi.fn(async () => {
      throw new Error('secret upstream detail');
    });
    const p = provider(await engine.store(), { work, worker: { ...engine.fast, maxAttempts: 3 } });
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    const final = await settled(client, action.action_id);
    expect(final).toMatchObject({ status: 'FAILED', details: { code: 'RetriesExhausted', attempts: 3 } });
    expect(JSON.stringify(final)).not.toContain('secret upstream detail');
    expect(work).toHaveBeenCalledTimes(3);
  });

  it("fails at once, keeping an ActionError's code and description", async () => {
    const work = vi.fn(async () => {
      throw new ActionError('RequestValidationError', 'The file does not exist');
    });
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    expect(await settled(client, action.action_id)).toMatchObject({
      status: 'FAILED',
      details: { code: 'RequestValidationError', description: 'The file does not exist' },
    });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('retries a ServiceUnavailable ActionError (an outage), instead of failing the action', async () => {
    const work = vi.fn(async ({ attempt }: WorkContext) => {
      if (attempt === 1) throw new ActionError('ServiceUnavailable', 'The tape library is offline');
      return { status: 'SUCCEEDED' as const };
    });
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(work).toHaveBeenCalledTimes(2);
  });

  it('with every slot busy, runs the work queued meanwhile once a slot frees', async () => {
    const first = gate();
    const work = async ({ action }: WorkContext) => {
      if (action.details?.['blocking'] === true) await first.promise;
      return { status: 'SUCCEEDED' as const };
    };
    const run = ({ request }: { request: { body: unknown } }) => ({
      status: 'ACTIVE' as const,
      details: { blocking: (request.body as { blocking?: boolean }).blocking === true },
    });
    const p = provider(await engine.store(), { work, run, worker: { ...engine.fast, concurrency: 1 } });
    const client = inProcessClient(p, { token: T.creator });
    const busy = await start(client, {}, { blocking: true });
    await until(() => (p.worker?.running === 1 ? true : undefined));
    // A poll while the one slot is busy (this one's schedule makes one) used to stop polling for good.
    const queued = await start(client);
    await sleep(engine.fast.pollInterval * 5);
    first.open();
    expect(await settled(client, busy.action_id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await settled(client, queued.action_id)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('frees the slot of work that ignores a cancel, and drops its late result', async () => {
    const work = async () => {
      await sleep(3_500); // heeds nothing
      return { status: 'SUCCEEDED' as const, details: { late: true } };
    };
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    await until(() => (p.worker?.running === 1 ? true : undefined));
    await client.cancel(action.action_id);
    await until(() => (p.worker?.running === 0 ? true : undefined), 3_000);
    await sleep(1_500);
    expect((await client.status(action.action_id)).body).toMatchObject({
      status: 'FAILED',
      details: { code: 'ActionCanceled' },
    });
  });

  it('aborts the signal at once on cancel; the action ends as cancel says and the late result is dropped', async () => {
    let signal: AbortSignal | undefined;
    const finished = gate();
    const work = async (context: WorkContext) => {
      signal = context.signal;
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      finished.open();
      return { status: 'SUCCEEDED' as const, details: { late: true } };
    };
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    await until(() => signal);
    const began = performance.now();
    const reply = await client.cancel(action.action_id);
    expect(reply.body).toMatchObject({ status: 'FAILED', details: { code: 'ActionCanceled' } });
    await finished.promise;
    expect(performance.now() - began).toBeLessThan(1_000);
    expect(signal?.reason).toBeInstanceOf(WorkAborted);
    expect((signal?.reason as WorkAborted | undefined)?.reason).toBe('canceled');
    await sleep(100);
    expect((await client.status(action.action_id)).body).toMatchObject({
      status: 'FAILED',
      details: { code: 'ActionCanceled' },
    });
  });

  it('notices a cancel made through another handle on the store within a heartbeat', async () => {
    let signal: AbortSignal | undefined;
    const work = async (context: WorkContext) => {
      signal = context.signal;
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      throw context.signal.reason;
    };
    const store = await engine.store();
    const p = provider(store, { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    await until(() => signal);
    // Another instance's cancel: the store changes, this instance's worker is not told.
    const record = await store.get(action.action_id);
    if (record === undefined) throw new Error('missing');
    await store.update({ ...record, status: 'FAILED', version: record.version + 1 });
    const began = performance.now();
    await until(() => (signal?.aborted ? true : undefined));
    expect(performance.now() - began).toBeLessThan(engine.fast.heartbeat * 4 + 200);
  });

  it('fails the action at its deadline with DeadlineExceeded, whether or not the work heeds the signal', async () => {
    let reason: unknown;
    const work = async ({ signal }: WorkContext) => {
      signal.addEventListener('abort', () => {
        reason = signal.reason;
      });
      await sleep(5_000); // ignores it
      return { status: 'SUCCEEDED' as const };
    };
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const deadline = new Date(Date.now() + 300).toISOString();
    const action = await start(client, { deadline });
    const final = await settled(client, action.action_id);
    expect(final).toMatchObject({ status: 'FAILED', details: { code: 'DeadlineExceeded' } });
    expect(Date.now()).toBeLessThan(Date.parse(deadline) + 1_500);
    expect((reason as WorkAborted).reason).toBe('deadline');
  });

  it('rejects progress that is not a checkpoint, and progress after a cancel', async () => {
    const errors: unknown[] = [];
    const canceled = gate();
    const work = async ({ progress }: WorkContext) => {
      for (const bad of [{ status: 'SUCCEEDED' }, { display_status: 'x'.repeat(65) }, { details: [] }]) {
        await progress(bad as never).catch((error: unknown) => errors.push(error));
      }
      await canceled.promise;
      await progress({ details: { after: true } }).catch((error: unknown) => errors.push(error));
      return { status: 'SUCCEEDED' as const };
    };
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    await until(() => (errors.length === 3 ? true : undefined));
    expect(errors.every((e) => e instanceof TypeError)).toBe(true);
    await client.cancel(action.action_id);
    canceled.open();
    await until(() => (errors.length === 4 ? true : undefined));
    expect(errors[3]).toBeInstanceOf(WorkAborted);
    expect((await client.status(action.action_id)).body.details).not.toHaveProperty('after');
  });

  it('does the work of an action resumed from INACTIVE', async () => {
    const work = vi.fn(async ({ attempt }: WorkContext) =>
      work.mock.calls.length === 1
        ? { status: 'INACTIVE' as const, display_status: 'Waiting for a human' }
        : { status: 'SUCCEEDED' as const, details: { attempt } },
    );
    const p = provider(await engine.store(), { work }, engine.fast);
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    await until(async () => ((await client.status(action.action_id)).body.status === 'INACTIVE' ? true : undefined));
    const resumed = await client.resume(action.action_id);
    expect(resumed.body.status).toBe('ACTIVE');
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(work).toHaveBeenCalledTimes(2);
  });

  it('queues the work again when a resume lands as an attempt ends', async () => {
    const store = await engine.store();
    const factory = (store as unknown as WithWorkEngine)[WORK_ENGINE];
    const queue = factory({
      ...engine.fast,
      owner: 'a',
      concurrency: 10,
      lease: 30_000,
      pollInterval: 20,
      clock: Date.now,
      logger: silentLogger,
    });
    const created = record({ status: 'ACTIVE', version: 1 });
    await store.create(created);
    expect(await queue.schedule({ ...created, version: 2 })).toBeDefined();
    const leases: [string, number][] = [];
    const second = gate();
    await queue.start(async (job) => {
      leases.push([job.actionId, job.attempt]);
      if (leases.length > 1) {
        // The resumed attempt ends the action, as the runner's would, then its job.
        expect(await store.update({ ...created, status: 'SUCCEEDED', version: 5 })).toBeDefined();
        await job.complete();
        return second.open();
      }
      // The attempt ends INACTIVE; before its job completes, a resume makes the action ACTIVE again.
      const inactive: ActionRecord = { ...created, status: 'INACTIVE', version: 3 };
      expect(await store.update(inactive)).toBeDefined();
      expect(await queue.schedule({ ...inactive, status: 'ACTIVE', version: 4 })).toBeDefined();
      await job.complete();
    });
    await within(second.promise, 5_000, 'the resumed work never ran');
    await queue.stop();
    expect(leases).toEqual([
      [created.action_id, 1],
      [created.action_id, 1],
    ]);
    expect(await queue.inspect([created.action_id])).toEqual(new Map());
  });

  it('lists and counts every action without a principal, with the work attached to each', async () => {
    const hold = gate();
    const work = async () => {
      await hold.promise;
      return { status: 'SUCCEEDED' as const };
    };
    const p = provider(await engine.store(), { work, worker: { ...engine.fast, id: 'instance-a' } });
    const a = await start(inProcessClient(p, { token: T.creator }));
    const b = await start(inProcessClient(p, { token: T.stranger }));
    await until(() => (p.worker?.running === 2 ? true : undefined));
    expect(await p.actions.count()).toEqual({ ACTIVE: 2, INACTIVE: 0, SUCCEEDED: 0, FAILED: 0 });
    const page = await p.actions.list({ status: 'ACTIVE', limit: 1 });
    expect(page.actions).toHaveLength(1);
    const next = await p.actions.list({ status: 'ACTIVE', limit: 1, cursor: page.cursor as string });
    const listed = [...page.actions, ...next.actions];
    expect(listed.map((x) => x.action_id).sort()).toEqual([a.action_id, b.action_id].sort());
    for (const item of listed) {
      expect(item.work).toMatchObject({ state: 'running', attempts: 1, leaseHolder: 'instance-a' });
    }
    hold.open();
    await until(async () => ((await p.actions.count()).SUCCEEDED === 2 ? true : undefined));
    // Each job goes once its SUCCEEDED is stored: soon after the count, not necessarily before it.
    await until(async () =>
      (await p.actions.list({ status: 'SUCCEEDED' })).actions.every((x) => x.work === null) ? true : undefined,
    );
    await expect(p.actions.list({ status: 'DONE' as never })).rejects.toThrow(TypeError);
    await expect(p.actions.list({ limit: 0 })).rejects.toThrow(TypeError);
  });
});

describe('shutdown and take-up on SQLite', () => {
  it('lets work finish within the grace period, then aborts the rest and hands it back at once', async () => {
    const file = tempFile();
    const quick = gate();
    const reasons: unknown[] = [];
    const firstWork = async ({ request, signal, progress, action }: WorkContext & { request?: never }) => {
      void request;
      if ((action.request.body as { kind?: string }).kind === 'quick') {
        await quick.promise;
        return { status: 'SUCCEEDED' as const };
      }
      await progress({ state: { chunk: 7 }, details: { chunk: 7 } });
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      reasons.push((signal.reason as WorkAborted).reason);
      throw signal.reason;
    };
    const first = provider(await openSqliteStore(file), {
      work: firstWork as never,
      worker: { ...FAST, lease: 60_000 },
    });
    const client = inProcessClient(first, { token: T.creator });
    const slow = await start(client, {}, { kind: 'slow' });
    const fast = await start(client, {}, { kind: 'quick' });
    await until(() => (first.worker?.running === 2 ? true : undefined));
    await until(async () => ((await first.actions.get(slow.action_id))?.state ? true : undefined));
    setTimeout(() => quick.open(), 50);
    await first.close(); // grace 200 ms
    expect(reasons).toEqual(['shutdown']);

    const seen = gate();
    let context: WorkContext | undefined;
    const second = provider(await openSqliteStore(file), {
      work: async (c) => {
        context = c;
        seen.open();
        return { status: 'SUCCEEDED', details: { resumedFrom: c.action.state } };
      },
      worker: { ...FAST, lease: 60_000 },
    });
    const began = performance.now();
    await second.worker?.start();
    await seen.promise;
    // Handed back, not left to its 60 s lease; and not counted as an attempt.
    expect(performance.now() - began).toBeLessThan(2_000);
    expect(context?.attempt).toBe(1);
    expect(context?.action.state).toEqual({ chunk: 7 });
    const client2 = inProcessClient(second, { token: T.creator });
    expect(await settled(client2, slow.action_id)).toMatchObject({
      status: 'SUCCEEDED',
      details: { resumedFrom: { chunk: 7 } },
    });
    expect((await client2.status(fast.action_id)).body.status).toBe('SUCCEEDED');
  });
});

describe('worker options', () => {
  const work = async () => ({ status: 'SUCCEEDED' as const });
  it.each([
    [{ worker: {} }, /worker: has no effect without a work callback/],
    [{ work, worker: { lease: 50 } }, /worker.lease/],
    [{ work, worker: { lease: 1000, heartbeat: 1000 } }, /worker.heartbeat: must be shorter/],
    [{ work, worker: { concurrency: 0 } }, /worker.concurrency/],
    [{ work, worker: { maxAttempts: 1.5 } }, /worker.maxAttempts/],
    [{ work, worker: { retryDelay: 10, maxRetryDelay: 5 } }, /worker.maxRetryDelay/],
    [{ work, worker: { leese: 1 } }, /lease/],
    [{ work, worker: { engine: 'pg-boss' } }, /worker.engine/],
    [{ work: 'yes' }, /work: must be a function/],
  ])('refuses %j at creation', (options, message) => {
    expect(() => testProvider(options as never)).toThrow(message);
  });

  it('refuses work on a store that has no engine', () => {
    const bare = memoryStore();
    const store: ActionStore = {
      create: (r) => bare.create(r),
      get: (id) => bare.get(id),
      update: (r) => bare.update(r),
      delete: (id) => bare.delete(id),
      list: (q) => bare.list(q),
      deleteExpired: (n) => bare.deleteExpired(n),
    };
    expect(() => testProvider({ store, work })).toThrow(/this store has no engine/);
  });

  it('has no worker without a work callback', () => {
    expect(testProvider().worker).toBeUndefined();
  });
});
