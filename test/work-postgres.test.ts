/**
 * @module test/work-postgres: background work on PostgreSQL, what is pg-boss's own (every
 * engine's semantics run on it in test/work.test.ts). In process: retries waiting their
 * back-off, a cancel on another instance, the action's update and its job stored together or
 * not at all, a resume racing an attempt's end, shutdown handing work
 * back uncounted, the operator view, the options and the SQL for `migrate: false`. Across
 * processes: three provider instances on one database running chunked work; one is killed
 * (SIGKILL) and the others take its work up within the lease, from the last checkpoint, each
 * action completing once; a cancel through one instance stops the work on another within a
 * heartbeat.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ActionProvider,
  type ActionRecord,
  type ActionStore,
  type EngineFactory,
  type LeasedJob,
  silentLogger,
  WORK_ENGINE,
  type WorkAborted,
  type WorkContext,
} from '../src/index.ts';
import {
  type PostgresClient,
  pgBossEngine,
  pgBossSchemaSql,
  postgresDriver,
  postgresStore,
  schemaSql,
} from '../src/store/postgres.ts';
import { sqlStore } from '../src/store/sql.ts';
import { type ActionClient, actionClient } from '../src/testing/index.ts';
import { rid, start } from './support/actions.ts';
import { gate, sleep, until } from './support/async.ts';
import { mint, tokens, USERS } from './support/identities.ts';
import { freshDatabase, uniqueName } from './support/postgres.ts';
import { type ProviderProcess, spawnWorkProvider } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

const T = await tokens();
/** pg-boss's shortest lease is 10 s; everything else as quick as the tests like. */
const FAST = { lease: 10_000, heartbeat: 200, retryDelay: 10, pollInterval: 50, shutdownGrace: 200 };

let url = '';
let dropDatabase: (() => Promise<void>) | undefined;
const closing: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  const db = await freshDatabase(inject('databaseUrl'));
  url = db.url;
  dropDatabase = db.drop;
});
afterAll(async () => {
  for (const close of closing.reverse()) await close().catch(() => {});
  await dropDatabase?.();
});

/** A store with tables (and so a queue) of its own, closed after the file. */
async function store(prefix = `${uniqueName('w')}_`): Promise<ActionStore> {
  const opened = await postgresStore({ url, tablePrefix: prefix });
  closing.push(() => opened.close?.() ?? Promise.resolve());
  return opened;
}
function provider(on: ActionStore, options: Parameters<typeof testProvider>[0] = {}): ActionProvider {
  const made = testProvider({ store: on, worker: FAST, ...options });
  closing.push(() => made.worker?.stop() ?? Promise.resolve());
  return made;
}

const settled = (client: ActionClient, id: string) =>
  until(async () => {
    const { body } = await client.status(id);
    return body.status === 'ACTIVE' ? undefined : body;
  }, 15_000);

// What every engine does (checkpoints, retries, cancel, deadline, resume, the operator view) is
// test/work.test.ts, run on pg-boss too; here, what is pg-boss's own.
describe('background work on PostgreSQL (pg-boss), in process', () => {
  it('retries from the last checkpoint with back-off, then fails with RetriesExhausted', async () => {
    const attempts: { attempt: number; state: unknown; at: number }[] = [];
    const work = async ({ attempt, action, progress }: WorkContext) => {
      attempts.push({ attempt, state: action.state, at: Date.now() });
      await progress({ state: { reached: attempt } });
      throw new Error('secret upstream detail');
    };
    const p = provider(await store(), { work, worker: { ...FAST, maxAttempts: 3, retryDelay: 300 } });
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    const final = await settled(client, action.action_id);
    expect(final).toMatchObject({ status: 'FAILED', details: { code: 'RetriesExhausted', attempts: 3 } });
    expect(JSON.stringify(final)).not.toContain('secret upstream detail');
    expect(attempts.map(({ attempt, state }) => ({ attempt, state }))).toEqual([
      { attempt: 1, state: null },
      { attempt: 2, state: { reached: 1 } },
      { attempt: 3, state: { reached: 2 } },
    ]);
    // retryDelay 300 ms doubling: the retries waited (pg-boss's own re-queue is immediate).
    const [a, b, c] = attempts.map((x) => x.at) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(250);
    expect(c - b).toBeGreaterThanOrEqual(550);
  });

  it('notices a cancel made on another instance within a heartbeat', async () => {
    let signal: AbortSignal | undefined;
    const work = async (context: WorkContext) => {
      signal = context.signal;
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      throw context.signal.reason;
    };
    const prefix = `${uniqueName('w')}_`;
    const here = provider(await store(prefix), { work });
    // Another instance on the same tables: it cancels, and its worker (never started) runs nothing.
    const there = provider(await store(prefix), { work });
    const action = await start(inProcessClient(here, { token: T.creator }));
    await until(() => signal);
    const began = performance.now();
    await inProcessClient(there, { token: T.creator }).cancel(action.action_id);
    await until(() => (signal?.aborted ? true : undefined));
    expect(performance.now() - began).toBeLessThan(FAST.heartbeat * 5 + 1_000);
    expect((signal?.reason as WorkAborted | undefined)?.reason).toBe('canceled');
  });

  it('hands work back at shutdown, uncounted: another instance takes it up at once from its checkpoint', async () => {
    const prefix = `${uniqueName('w')}_`;
    const reasons: unknown[] = [];
    const first = provider(await store(prefix), {
      work: async ({ signal, progress }) => {
        await progress({ state: { chunk: 7 }, details: { chunk: 7 } });
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        reasons.push((signal.reason as WorkAborted).reason);
        throw signal.reason;
      },
    });
    const action = await start(inProcessClient(first, { token: T.creator }));
    await until(async () => ((await first.actions.get(action.action_id))?.state ? true : undefined));
    await first.worker?.stop(); // grace 200 ms, then aborted and given back
    expect(reasons).toEqual(['shutdown']);

    const seen = gate();
    let context: WorkContext | undefined;
    const second = provider(await store(prefix), {
      work: async (c) => {
        context = c;
        seen.open();
        return { status: 'SUCCEEDED', details: { resumedFrom: c.action.state } };
      },
    });
    const began = performance.now();
    await second.worker?.start();
    await seen.promise;
    // Given back, not left to its 10 s lease; and not counted as an attempt.
    expect(performance.now() - began).toBeLessThan(3_000);
    expect(context?.attempt).toBe(1);
    expect(context?.action.state).toEqual({ chunk: 7 });
    expect(await settled(inProcessClient(second, { token: T.creator }), action.action_id)).toMatchObject({
      status: 'SUCCEEDED',
      details: { resumedFrom: { chunk: 7 } },
    });
  });

  it('shows the work in the operator view: running here, and queued for its retry', async () => {
    const hold = gate();
    const work = async ({ action }: WorkContext) => {
      if ((action.request.body as { fail?: boolean }).fail) throw new Error('once');
      await hold.promise;
      return { status: 'SUCCEEDED' as const };
    };
    const p = provider(await store(), { work, worker: { ...FAST, id: 'instance-a', retryDelay: 60_000 } });
    const client = inProcessClient(p, { token: T.creator });
    const running = await start(client);
    const retrying = await start(client, {}, { fail: true });
    const listed = await until(async () => {
      const { actions } = await p.actions.list({ status: 'ACTIVE' });
      const work = new Map(actions.map((a) => [a.action_id, a.work]));
      const queued = work.get(retrying.action_id);
      // Queued for its retry: after its first attempt (before it, it is queued with 0 attempts).
      const retried = queued?.state === 'queued' && queued.attempts === 1;
      return work.get(running.action_id)?.state === 'running' && retried ? work : undefined;
    });
    const now = Date.now();
    const run = listed.get(running.action_id);
    expect(run).toMatchObject({ state: 'running', attempts: 1, leaseHolder: 'instance-a', runAt: null });
    expect(run?.leaseExpires).toBeGreaterThan(now);
    expect(run?.leaseExpires).toBeLessThanOrEqual(now + FAST.lease + 1_000);
    const queued = listed.get(retrying.action_id);
    expect(queued).toMatchObject({ state: 'queued', attempts: 1, leaseHolder: null, leaseExpires: null });
    expect(queued?.runAt).toBeGreaterThan(now + 50_000);
    hold.open();
    await settled(client, running.action_id);
    // The job is completed just after the action's last write: wait for the view to show it gone.
    const done = await until(async () => {
      const { actions } = await p.actions.list({ status: 'SUCCEEDED' });
      return actions.length > 0 && actions.every((a) => a.work === null) ? actions : undefined;
    });
    expect(done.map((a) => a.action_id)).toEqual([running.action_id]);
  });
});

describe('the pg-boss engine: scheduling', () => {
  const settings = {
    owner: 'engine-test',
    concurrency: 10,
    lease: 10_000,
    pollInterval: 50,
    clock: Date.now,
    logger: silentLogger,
  };
  const engineOf = (s: ActionStore) => (s as unknown as { [WORK_ENGINE]: EngineFactory })[WORK_ENGINE](settings);
  const jobs = async (prefix: string) => {
    const sql = (await import('postgres')).default(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql.unsafe("SELECT state FROM pgboss.job WHERE name = $1 AND state < 'completed'", [
        `${prefix}work`,
      ]);
      return rows.length;
    } finally {
      await sql.end();
    }
  };

  it('stores the update and queues the job together, or neither', async () => {
    const prefix = `${uniqueName('w')}_`;
    const s = await store(prefix);
    const engine = engineOf(s);
    const created = record({ status: 'ACTIVE', version: 1 });
    await s.create(created);
    // A version conflict (the stored version is not the one before): no update, no job.
    expect(await engine.schedule({ ...created, version: 3, display_status: 'stale' })).toBeUndefined();
    expect(await jobs(prefix)).toBe(0);
    // The job cannot be queued (its queue is gone): the update is rolled back with it.
    const sql = (await import('postgres')).default(url, { max: 1, onnotice: () => {} });
    closing.push(() => sql.end());
    await sql.unsafe('DELETE FROM pgboss.queue WHERE name = $1', [`${prefix}work`]);
    await expect(engine.schedule({ ...created, version: 2, display_status: 'lost' })).rejects.toThrow();
    expect(await s.get(created.action_id)).toMatchObject({ version: 1 });
    expect(await jobs(prefix)).toBe(0);
  });

  it('queues the work again when a resume races the end of its attempt', async () => {
    const prefix = `${uniqueName('w')}_`;
    const s = await store(prefix);
    const engine = engineOf(s);
    const created = record({ status: 'ACTIVE', version: 1 });
    await s.create(created);
    const scheduled = await engine.schedule({ ...created, version: 2 });
    expect(scheduled).toBeDefined();
    const leases: LeasedJob[] = [];
    const second = gate();
    await engine.start(async (job) => {
      leases.push(job);
      if (leases.length > 1) {
        await job.complete();
        return second.open();
      }
      // The attempt ends INACTIVE; before it completes its job, a resume makes the action ACTIVE
      // again, and its job is refused: this one still holds the action's key.
      const inactive: ActionRecord = { ...created, status: 'INACTIVE', version: 3 };
      expect(await s.update(inactive)).toBeDefined();
      expect(await engine.schedule({ ...inactive, status: 'ACTIVE', version: 4 })).toBeDefined();
      expect(await jobs(prefix)).toBe(1); // only this attempt's
      await job.complete();
    });
    closing.push(() => engine.stop());
    await second.promise;
    await engine.stop();
    expect(leases.map((l) => [l.actionId, l.attempt])).toEqual([
      [created.action_id, 1],
      [created.action_id, 1],
    ]);
  });
});

describe('PostgreSQL work options', () => {
  const work = async () => ({ status: 'SUCCEEDED' as const });

  it('refuses a lease shorter than pg-boss can keep, naming the option, at creation', async () => {
    const s = await store();
    expect(() => testProvider({ store: s, work, worker: { lease: 5_000 } })).toThrow(/worker\.lease: .*10000/);
    expect(() => testProvider({ store: s, work, worker: { lease: 10_000 } })).not.toThrow();
  });

  it('checks the engine options', () => {
    const sql = { unsafe: async () => [], begin: async () => undefined, end: async () => {} };
    expect(() => pgBossEngine({ sql } as never)).not.toThrow();
    expect(() => pgBossEngine({ sql, shema: 'x' } as never)).toThrow(
      /unknown option "shema" \(did you mean "schema"\?\)/,
    );
    expect(() => pgBossEngine({ sql, schema: 'Jobs' } as never)).toThrow(/^schema: /);
    expect(() => pgBossEngine({ sql, tablePrefix: 'a-b' } as never)).toThrow(/^tablePrefix: /);
    expect(() => pgBossEngine({ sql: {} } as never)).toThrow(/^sql: /);
    expect(() => pgBossEngine({ sql, max: 0 } as never)).toThrow(/^max: /);
  });

  it('gives another PostgreSQL driver no engine: the lease table is not safe for several instances', async () => {
    const sql = (await import('postgres')).default(url, { max: 1, onnotice: () => {} });
    closing.push(() => sql.end());
    const bare = sqlStore(postgresDriver(sql as unknown as PostgresClient));
    expect(() => testProvider({ store: bare, work })).toThrow(/this PostgreSQL store has no engine .*pgBossEngine/);
    // Named explicitly, an engine runs there.
    const engine = pgBossEngine({ sql: sql as unknown as PostgresClient, tablePrefix: 'bare_' });
    closing.push(() => engine.close());
    expect(testProvider({ store: bare, work, worker: { engine } }).worker?.engine).toBe('pg-boss');
  });

  it('runs work on a database made by hand from schemaSql and pgBossSchemaSql, with migrate: false', async () => {
    const db = await freshDatabase(inject('databaseUrl'));
    closing.push(() => db.drop());
    const prefix = 'byhand_';
    const sql = (await import('postgres')).default(db.url, { max: 1, onnotice: () => {} });
    try {
      for (const statement of schemaSql('postgres', { tablePrefix: prefix })) await sql.unsafe(statement);
      const boss = await pgBossSchemaSql({ tablePrefix: prefix });
      expect(boss).toHaveLength(2);
      for (const script of boss) await sql.unsafe(script);
    } finally {
      await sql.end();
    }
    const s = await postgresStore({ url: db.url, tablePrefix: prefix, migrate: false });
    closing.push(() => s.close?.() ?? Promise.resolve());
    const p = provider(s, { work: async () => ({ status: 'SUCCEEDED', details: { byHand: true } }) });
    const client = inProcessClient(p, { token: T.creator });
    const action = await start(client);
    expect(await settled(client, action.action_id)).toMatchObject({ status: 'SUCCEEDED', details: { byHand: true } });
  });

  it('says what to run when migrate: false finds no pg-boss schema', async () => {
    const db = await freshDatabase(inject('databaseUrl'));
    closing.push(() => db.drop());
    const sql = (await import('postgres')).default(db.url, { max: 1, onnotice: () => {} });
    for (const statement of schemaSql('postgres')) await sql.unsafe(statement);
    await sql.end();
    const s = await postgresStore({ url: db.url, migrate: false });
    closing.push(() => s.close?.() ?? Promise.resolve());
    const p = provider(s, { work });
    await expect(p.worker?.start()).rejects.toThrow(/migrate: false: run the SQL of pgBossSchemaSql\(\)/);
  });
});

// ---------------------------------------------------------------------------------------------

/** An instance's event files (test/fixtures/work-provider.ts): each line split at spaces. */
function eventFiles(dir: string, instance: string) {
  const path = (name: string) => join(dir, `${instance}-${name}.log`);
  for (const name of ['attempts', 'done', 'aborts']) writeFileSync(path(name), '');
  const lines = (name: string) =>
    readFileSync(path(name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
  return {
    env: { ATTEMPTS_FILE: path('attempts'), DONE_FILE: path('done'), ABORTS_FILE: path('aborts') },
    /** `<action_id> <attempt> <first chunk> <instance> <epoch ms>` */
    attempts: () => lines('attempts'),
    /** `<action_id> <instance>` */
    done: () => lines('done'),
    /** `<action_id> <reason> <epoch ms> <instance>` */
    aborts: () => lines('aborts'),
  };
}

describe('three provider instances sharing one database', () => {
  const LEASE = 10_000;
  const HEARTBEAT = 1_000;
  const POLL = 500;
  const NAMES = ['A', 'B', 'C'];
  const hosts = new Map<string, ProviderProcess>();
  const files = new Map<string, ReturnType<typeof eventFiles>>();
  let token = '';

  beforeAll(async () => {
    const db = await freshDatabase(inject('databaseUrl'));
    closing.push(() => db.drop());
    const dir = mkdtempSync(join(tmpdir(), 'gap-work-pg-'));
    closing.push(async () => rmSync(dir, { recursive: true, force: true }));
    token = await mint(USERS.creator);
    // Started together: they race to create the tables and pg-boss's schema.
    const started = await Promise.all(
      NAMES.map((name) => {
        const events = eventFiles(dir, name);
        files.set(name, events);
        return spawnWorkProvider({
          DATABASE_URL: db.url,
          INSTANCE: name,
          LEASE: String(LEASE),
          HEARTBEAT: String(HEARTBEAT),
          POLL: String(POLL),
          CHUNK_MS: '150',
          LOG: 'warn',
          ...events.env,
        });
      }),
    );
    for (const [i, host] of started.entries()) {
      hosts.set(NAMES[i] as string, host);
      closing.push(() => host.stop());
    }
  }, 120_000);

  const client = (name: string) => actionClient((hosts.get(name) as ProviderProcess).url, { token });
  const all = (kind: 'attempts' | 'done' | 'aborts') => NAMES.flatMap((name) => files.get(name)?.[kind]() ?? []);
  /** Where `id`'s work runs (its checkpoints say) and its last checkpoint, once it has made `chunk`. */
  const runningAt = (via: ActionClient, id: string, chunk = 1) =>
    until(async () => {
      const { body } = await via.status(id);
      const details = body.details as { instance?: string; chunk?: number; attempt?: number };
      return (details.chunk ?? 0) >= chunk ? (details as Required<typeof details>) : undefined;
    }, 30_000);

  /** Start work on B, cancel it through another instance; ms until its signal aborted where it runs. */
  async function cancelAcross(body: { chunks: number; chunkMs: number }) {
    const id = (await start(client('B'), {}, body)).action_id as string;
    const [, , , instance] = await until(() => all('attempts').find(([action]) => action === id));
    const other = NAMES.find((name) => name !== instance) as string;
    await sleep(200 + Math.random() * HEARTBEAT); // anywhere in the heartbeat's period
    const canceledAt = Date.now();
    const reply = await client(other).cancel(id);
    expect(reply.body).toMatchObject({ status: 'FAILED', details: { code: 'ActionCanceled' } });
    const [abort] = await until(() => {
      const found =
        files
          .get(instance as string)
          ?.aborts()
          .filter(([action]) => action === id) ?? [];
      return found.length > 0 ? found : undefined;
    });
    expect(abort?.[1]).toBe('canceled');
    for (const name of NAMES) {
      expect((await client(name).status(id)).body).toMatchObject({
        status: 'FAILED',
        details: { code: 'ActionCanceled' },
      });
    }
    expect(all('done').filter(([action]) => action === id)).toEqual([]);
    return { latency: Number(abort?.[2]) - canceledAt, other, instance };
  }
  const summary = (latencies: number[]) => {
    const sorted = [...latencies].sort((x, y) => x - y);
    return `${sorted.join(', ')} ms (median ${sorted[Math.floor(sorted.length / 2)]})`;
  };

  it('stops the work on the instance running it when another instance cancels it: within a heartbeat', async () => {
    // Work between checkpoints (one 60 s chunk): only the heartbeat, which reads the store, notices.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { latency, other, instance } = await cancelAcross({ chunks: 1, chunkMs: 60_000 });
      console.log(`cancel through ${other} of work running on ${instance}: its signal aborted after ${latency} ms`);
      // The heartbeat (1 s), then a store read; generous for a loaded machine.
      expect(latency).toBeLessThan(HEARTBEAT + 2_000);
      latencies.push(latency);
    }
    console.log(`cancel across instances, heartbeat ${HEARTBEAT} ms, work between checkpoints: ${summary(latencies)}`);
    // Work checkpointing every 150 ms: its next checkpoint finds the action completed, sooner.
    const checkpointing: number[] = [];
    for (let i = 0; i < 3; i++) checkpointing.push((await cancelAcross({ chunks: 10_000, chunkMs: 150 })).latency);
    console.log(`cancel across instances, work checkpointing every 150 ms: ${summary(checkpointing)}`);
    for (const latency of checkpointing) expect(latency).toBeLessThan(HEARTBEAT + 2_000);
  }, 90_000);

  it('takes up the work of an instance killed with SIGKILL within the lease, from its last checkpoint, each action completing once', async () => {
    // Six actions, two started on each instance (their work is claimed there at once): 40 chunks of 150 ms.
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await client(NAMES[i % 3] as string).run({ request_id: rid(), body: { chunks: 40 } });
      expect(reply.status).toBe(202);
      ids.push(reply.body.action_id as string);
    }
    const target = ids[0] as string;
    const before = await runningAt(client('A'), target, 3);
    const victim = before.instance;
    const survivors = NAMES.filter((name) => name !== victim);
    const watcher = client(survivors[0] as string);

    // A polling client on a survivor, for every action: checkpoints never go back, and a
    // completion time, once set, never changes.
    const last = new Map<string, number>();
    const completed = new Map<string, string>();
    const regressions: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const id of ids) {
          const { status, body } = await watcher.status(id);
          if (status !== 200) continue;
          const chunk = (body.details as { chunk?: number }).chunk;
          if (chunk !== undefined) {
            if (chunk < (last.get(id) ?? 0)) regressions.push(`${id}: chunk ${last.get(id)} then ${chunk}`);
            last.set(id, Math.max(chunk, last.get(id) ?? 0));
          }
          if (body.completion_time) {
            const first = completed.get(id);
            if (first !== undefined && first !== body.completion_time) regressions.push(`${id}: completed twice`);
            completed.set(id, body.completion_time);
          }
        }
        await sleep(100);
      }
    })();

    const seenBefore = (await watcher.status(target)).body.details.chunk as number;
    const killedAt = Date.now();
    await (hosts.get(victim) as ProviderProcess).kill();
    const takeUp = await until(() => {
      const line = all('attempts').find(([id, attempt]) => id === target && Number(attempt) > before.attempt);
      return line === undefined
        ? undefined
        : { name: line[3] as string, attempt: Number(line[1]), from: Number(line[2]), at: Number(line[4]) };
    }, 60_000);
    const latency = takeUp.at - killedAt;
    console.log(
      `SIGKILL of ${victim} at chunk ${seenBefore}: ${takeUp.name} took the work up after ${latency} ms ` +
        `(lease ${LEASE} ms), attempt ${takeUp.attempt}, from chunk ${takeUp.from}`,
    );
    // Within the lease, plus pg-boss's supervisor pass (1 s at this lease) and a poll, plus margin.
    expect(latency).toBeLessThan(LEASE + 1_000 + POLL + 5_000);
    expect(survivors).toContain(takeUp.name);
    expect(takeUp.attempt).toBe(before.attempt + 1);
    expect(takeUp.from).toBeGreaterThanOrEqual(seenBefore);

    await until(() => (completed.size === ids.length ? true : undefined), 90_000);
    await sleep(500); // a few more polls: the completion times stay
    watching = false;
    await watch;
    expect(regressions).toEqual([]);
    const done = all('done');
    for (const id of ids) {
      expect(done.filter(([action]) => action === id)).toHaveLength(1);
      expect((await watcher.status(id)).body).toMatchObject({ status: 'SUCCEEDED', details: { chunks: 40 } });
    }
    const final = (await watcher.status(target)).body.details;
    expect(final).toMatchObject({ attempt: takeUp.attempt, instance: takeUp.name });
    // Every action the victim was running went on elsewhere, as its next attempt.
    const resumed = all('attempts').filter(([, attempt]) => attempt === '2');
    console.log(`${resumed.length} of ${ids.length} actions were taken up from ${victim}`);
    for (const [id, , from, name] of resumed) {
      expect(survivors).toContain(name);
      expect(Number(from)).toBeGreaterThan(0);
      expect(ids).toContain(id);
    }
  }, 150_000);
});
