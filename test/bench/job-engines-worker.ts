/**
 * @module test/bench/job-engines-worker: one job engine (pg-boss or graphile-worker) in a child
 * process of test/bench/job-engines.ts (never run on its own). The same file is a producer, a
 * worker, or a smoke test, by BENCH_ROLE:
 *
 * - `producer`: enqueues on request (through the engine's API, or inside a transaction of our
 *   own `postgres` client that also inserts an action row), cancels, and checks that a rolled-back
 *   enqueue leaves no job. Answers each request with the per-call latencies.
 * - `worker`: runs jobs. `noop` jobs return at once; the lag from the producer's send() call to
 *   the handler's start is kept here and handed over on `stats`. `long` jobs (the crash and cancel
 *   drills) run until their AbortSignal fires; their start and abort are reported as they happen.
 * - `smoke`: start, enqueue one job, run it, stop; then exit 0 (the Node-version check).
 *
 * Every PostgreSQL statement the engine sends through `pg` (its own pool, and its LISTEN
 * connection) is counted here, by patching `pg.Client.prototype.query`: the idle-cost figure.
 *
 * Environment: BENCH_ENGINE (`pgboss` | `graphile`), BENCH_URL, BENCH_ROLE, BENCH_PROFILE
 * (`default` | `batch` | `drill`), BENCH_CONCURRENCY, BENCH_QUEUE (`long`, or the no-op queue's name), BENCH_POOL,
 * BENCH_HEARTBEAT_REFRESH (pg-boss drill: seconds between a running job's heartbeats).
 */
import pg from 'pg';
import postgres from 'postgres';

export type EngineName = 'pgboss' | 'graphile';
export type Role = 'producer' | 'worker' | 'smoke';
/**
 * `default`: each engine's defaults, LISTEN/NOTIFY on, a job per concurrency slot.
 * `batch`: jobs fetched `concurrency` at a time (pg-boss: `batchSize`, handled together, refetching at
 *   once while full; graphile-worker: its `localQueue` of that size, each job still run on its own).
 * `poll` (pg-boss): a job per slot polling at the floor, 0.5 s, NOTIFY or not. At the defaults (2 s,
 *   30 s while NOTIFY is up) a slot takes one job per interval unless a NOTIFY wakes it: after a
 *   job it waits the interval again (worker.js run(); manager.js resolveInterval bursts only for
 *   full batches of batchSize > 1, or on burstWhenReadyExceeds against stats cached for 60 s).
 * `drill`: the most aggressive safe crash-recovery settings each engine has (see job-engines.ts).
 */
export type Profile = 'default' | 'poll' | 'batch' | 'drill';
export type ToChild =
  | { type: 'enqueue'; queue: string; n: number; concurrency: number; via: 'api' | 'tx' }
  | { type: 'paced'; queue: string; n: number; gapMs: number }
  | { type: 'bulk'; queue: string; n: number }
  | { type: 'long'; key: string }
  | { type: 'cancel'; id: string; key: string }
  | { type: 'txcheck' }
  | { type: 'expect'; n: number }
  | { type: 'queries' }
  | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; startMs: number }
  | { type: 'enqueued'; latencies: number[]; elapsedMs: number; startedAt: number }
  | { type: 'paced' }
  | { type: 'long'; id: string }
  | { type: 'cancelled'; at: number }
  | { type: 'txcheck'; rolledBackLeftJob: boolean; committedLeftJob: boolean }
  | { type: 'done'; lags: number[]; lastEnd: number }
  | { type: 'queries'; total: number; byStatement: Record<string, number> }
  | { type: 'started'; id: string; attempt: number; at: number; pid: number }
  | { type: 'aborted'; id: string; at: number; reason: string }
  | { type: 'smoke'; ok: true; node: string };

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};
const ENGINE = env('BENCH_ENGINE') as EngineName;
const URL_ = env('BENCH_URL');
const ROLE = env('BENCH_ROLE') as Role;
const PROFILE = env('BENCH_PROFILE', 'default') as Profile;
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '10'));
/** `long` (the drills), or the name of the no-op queue this worker serves (one per variant, so variants never share jobs). */
const QUEUE = env('BENCH_QUEUE', 'noop');
const POOL = Number(env('BENCH_POOL', '10'));
const HEARTBEAT_REFRESH = process.env['BENCH_HEARTBEAT_REFRESH'];
/** Wall-clock ms with sub-ms resolution, comparable across processes on this machine. */
const now = () => performance.timeOrigin + performance.now();
const send = (message: FromChild) => process.send?.(message);

// ---------------------------------------------------------------------------------------------
// Every statement through pg, counted (both engines use the one deduplicated `pg`).

let queryTotal = 0;
const byStatement = new Map<string, number>();
type QueryFn = (this: pg.Client, config: unknown, ...rest: unknown[]) => unknown;
const clientPrototype = pg.Client.prototype as unknown as { query: QueryFn };
const originalQuery = clientPrototype.query;
clientPrototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
  queryTotal++;
  const text = typeof config === 'string' ? config : String((config as { text?: unknown } | null)?.text ?? '?');
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
  byStatement.set(key, (byStatement.get(key) ?? 0) + 1);
  return originalQuery.call(this, config, ...rest);
};

// ---------------------------------------------------------------------------------------------
// The engines behind one interface

interface LongJob {
  id: string;
  attempt: number;
  signal: AbortSignal;
}
interface Engine {
  enqueue(queue: string, payload: Record<string, unknown>, key?: string): Promise<string>;
  /** `n` jobs in one call (pg-boss insert(), graphile-worker addJobs()). */
  bulk(queue: string, payload: Record<string, unknown>, n: number): Promise<void>;
  /** Inside a transaction of our `postgres` client. */
  enqueueInTx(
    tx: postgres.TransactionSql,
    queue: string,
    payload: Record<string, unknown>,
    key?: string,
  ): Promise<string>;
  cancel(id: string, key: string): Promise<void>;
  /** Whether a job with this key exists (any state): the operator's view by key. */
  findByKey(queue: string, key: string): Promise<boolean>;
  work(noop: (payload: { t: number }) => void, long: (job: LongJob) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const silentGraphileLogger = async () => {
  const { Logger } = await import('graphile-worker');
  return new Logger(() => (level: string, message: string) => {
    if (level === 'error') console.error(`[graphile-worker] ${message}`);
  });
};

async function pgBoss(): Promise<Engine> {
  const { PgBoss } = await import('pg-boss');
  const drill = PROFILE === 'drill';
  const boss = new PgBoss({
    connectionString: URL_,
    max: POOL,
    useListenNotify: true,
    schedule: false,
    // Only workers supervise (expire, fail by heartbeat, retention); a producer is a web process.
    supervise: ROLE !== 'producer',
    // The supervisor's pass (expiry and heartbeat failure among it) every second: its floor.
    ...(drill ? { superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 } : {}),
  });
  boss.on('error', (error: unknown) => console.error(`[pg-boss] ${String(error)}`));
  await boss.start();
  const queues: Record<string, Parameters<typeof boss.createQueue>[1]> = {
    sink: { notify: true },
    noop: { notify: true },
    noop_batch: { notify: true },
    // One job per action (exclusive: one queued or active per key), retried at once after a
    // crash, with a heartbeat at its floor of 10 s (types.d.ts: "Must be >= 10").
    long: { notify: true, policy: 'exclusive', heartbeatSeconds: 10, retryLimit: 5, retryDelay: 0 },
  };
  for (const [name, options] of Object.entries(queues)) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name, options).catch(() => {}); // another child's race
  }
  const txDb = (tx: postgres.TransactionSql) => ({
    async executeSql(text: string, values?: unknown[]) {
      return { rows: await tx.unsafe(text, (values ?? []) as never[]) };
    },
  });
  return {
    async enqueue(queue, payload, key) {
      const id = await boss.send(queue, payload, key === undefined ? {} : { singletonKey: key });
      if (id === null) throw new Error(`pg-boss refused a job on ${queue}`);
      return id;
    },
    async bulk(queue, payload, n) {
      await boss.insert(
        queue,
        Array.from({ length: n }, () => ({ data: payload })),
      );
    },
    async enqueueInTx(tx, queue, payload, key) {
      const id = await boss.send(queue, payload, { db: txDb(tx), ...(key === undefined ? {} : { singletonKey: key }) });
      if (id === null) throw new Error(`pg-boss refused a job on ${queue}`);
      return id;
    },
    async cancel(id) {
      await boss.cancel('long', id);
    },
    async findByKey(queue, key) {
      return (await boss.findJobs(queue, { key })).length > 0;
    },
    async work(noop, long) {
      // The drill polls at the floor, 0.5 s (attorney.js MIN_POLLING_INTERVAL_MS), with NOTIFY active
      // too: a job the supervisor puts back to retry after a crash sends no NOTIFY.
      const polling =
        drill || PROFILE === 'poll' ? { pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 } : {};
      if (QUEUE !== 'long') {
        if (PROFILE === 'batch') {
          await boss.work<{ t: number }>(
            QUEUE,
            { batchSize: CONCURRENCY, burstWhenBatchFull: true, ...polling },
            async (jobs) => {
              for (const job of jobs) noop(job.data);
            },
          );
        } else {
          await boss.work<{ t: number }>(QUEUE, { localConcurrency: CONCURRENCY, ...polling }, async ([job]) => {
            if (job) noop(job.data);
          });
        }
      } else {
        await boss.work(
          'long',
          {
            localConcurrency: CONCURRENCY,
            ...polling,
            ...(HEARTBEAT_REFRESH ? { heartbeatRefreshSeconds: Number(HEARTBEAT_REFRESH) } : {}),
          },
          async ([job]) => {
            if (job) await long({ id: job.id, attempt: job.retryCount + 1, signal: job.signal });
          },
        );
      }
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 2000 });
    },
  };
}

async function graphileWorker(): Promise<Engine> {
  const { run, makeWorkerUtils } = await import('graphile-worker');
  const logger = await silentGraphileLogger();
  const drill = PROFILE === 'drill';
  const utils = await makeWorkerUtils({ connectionString: URL_, maxPoolSize: POOL, logger }); // migrates
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  const maxAttempts = (queue: string) => (queue === 'long' ? { maxAttempts: 6 } : {});
  return {
    async enqueue(queue, payload, key) {
      const job = await utils.addJob(queue, payload, {
        ...maxAttempts(queue),
        ...(key === undefined ? {} : { jobKey: key, jobKeyMode: 'unsafe_dedupe' as const }),
      });
      return job.id;
    },
    async bulk(queue, payload, n) {
      await utils.addJobs(Array.from({ length: n }, () => ({ identifier: queue, payload })));
    },
    async enqueueInTx(tx, queue, payload, key) {
      const [row] =
        await tx`SELECT (graphile_worker.add_job(${queue}, ${JSON.stringify(payload)}::json, job_key => ${key ?? null}::text)).id`;
      return String(row?.['id']);
    },
    async cancel(_id, key) {
      // The documented way (admin functions): remove_job deletes a waiting job; a locked (running)
      // one only loses its key and its remaining attempts. The running handler is not told.
      await utils.withPgClient((client) => client.query('SELECT graphile_worker.remove_job($1)', [key]));
    },
    async findByKey(_queue, key) {
      const { rows } = await utils.withPgClient((client) =>
        client.query('SELECT 1 FROM graphile_worker.jobs WHERE key = $1', [key]),
      );
      return rows.length > 0;
    },
    async work(noop, long) {
      runner = await run({
        connectionString: URL_,
        maxPoolSize: POOL,
        concurrency: CONCURRENCY,
        noHandleSignals: true,
        logger,
        // The stale-lock sweep as often as it goes; the 4-hour age it looks for is fixed in SQL.
        ...(drill ? { minResetLockedInterval: 1000, maxResetLockedInterval: 2000, pollInterval: 500 } : {}),
        ...(PROFILE === 'batch' ? { preset: { worker: { localQueue: { size: CONCURRENCY } } } } : {}),
        taskList: {
          [QUEUE === 'long' ? 'noop' : QUEUE]: async (payload) => noop(payload as { t: number }),
          long: async (_payload, helpers) =>
            long({ id: helpers.job.id, attempt: helpers.job.attempts, signal: helpers.abortSignal }),
        },
      });
    },
    async stop() {
      await runner?.stop();
      await utils.release();
    },
  };
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const engine = ENGINE === 'pgboss' ? await pgBoss() : await graphileWorker();
const sql = ROLE === 'producer' ? postgres(URL_, { max: POOL, onnotice: () => {} }) : undefined;

let lags: number[] = [];
let endedCount = 0;
let expected = Number.POSITIVE_INFINITY;
const onNoop = (payload: { t: number }) => {
  lags.push(now() - payload.t);
  if (++endedCount >= expected) {
    send({ type: 'done', lags, lastEnd: now() });
    lags = [];
    endedCount = 0;
    expected = Number.POSITIVE_INFINITY;
  }
};
const onLong = async (job: LongJob) => {
  send({ type: 'started', id: job.id, attempt: job.attempt, at: now(), pid: process.pid });
  await new Promise<void>((resolvePromise) => {
    if (job.signal.aborted) return resolvePromise();
    job.signal.addEventListener('abort', () => resolvePromise(), { once: true });
  });
  send({ type: 'aborted', id: job.id, at: now(), reason: String(job.signal.reason) });
};

/** `n` calls, at most `concurrency` in flight; each call's latency in ms. */
async function calls(n: number, concurrency: number, call: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, elapsedMs: performance.now() - t0 };
}

async function enqueueVia(via: 'api' | 'tx', queue: string, key?: string): Promise<string> {
  const payload = { t: now() };
  if (via === 'api') return engine.enqueue(queue, payload, key);
  if (!sql) throw new Error('tx: producer only');
  // Our action insert and the job in one transaction: both commit, or neither.
  return (await sql.begin(async (tx) => {
    await tx`INSERT INTO bench_actions (action_id) VALUES (${crypto.randomUUID()})`;
    return engine.enqueueInTx(tx, queue, payload, key);
  })) as string;
}

class RollBack extends Error {}

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'enqueue': {
      const startedAt = now();
      const { latencies, elapsedMs } = await calls(message.n, message.concurrency, () =>
        enqueueVia(message.via, message.queue),
      );
      return void send({ type: 'enqueued', latencies, elapsedMs, startedAt });
    }
    case 'bulk': {
      const startedAt = now();
      await engine.bulk(message.queue, { t: startedAt }, message.n);
      return void send({ type: 'enqueued', latencies: [now() - startedAt], elapsedMs: now() - startedAt, startedAt });
    }
    case 'paced': {
      for (let i = 0; i < message.n; i++) {
        await engine.enqueue(message.queue, { t: now() });
        await new Promise((r) => setTimeout(r, message.gapMs));
      }
      return void send({ type: 'paced' });
    }
    case 'long':
      return void send({ type: 'long', id: await engine.enqueue('long', { t: now() }, message.key) });
    case 'cancel': {
      const at = now();
      await engine.cancel(message.id, message.key);
      return void send({ type: 'cancelled', at });
    }
    case 'txcheck': {
      if (!sql) throw new Error('txcheck: producer only');
      const rolledBack = `rollback-${crypto.randomUUID()}`;
      await sql
        .begin(async (tx) => {
          await tx`INSERT INTO bench_actions (action_id) VALUES (${crypto.randomUUID()})`;
          await engine.enqueueInTx(tx, 'sink', { t: now() }, rolledBack);
          throw new RollBack();
        })
        .catch((error: unknown) => {
          if (!(error instanceof RollBack)) throw error;
        });
      const committed = `commit-${crypto.randomUUID()}`;
      await enqueueVia('tx', 'sink', committed);
      return void send({
        type: 'txcheck',
        rolledBackLeftJob: await engine.findByKey('sink', rolledBack),
        committedLeftJob: await engine.findByKey('sink', committed),
      });
    }
    case 'expect': {
      // Sent before the producer starts, so every counted job is one of these.
      lags = [];
      endedCount = 0;
      expected = message.n;
      return;
    }
    case 'queries':
      return void send({ type: 'queries', total: queryTotal, byStatement: Object.fromEntries(byStatement) });
    case 'exit': {
      await engine.stop();
      await sql?.end({ timeout: 5 });
      process.exit(0);
    }
  }
}

if (ROLE === 'smoke') {
  await engine.work(onNoop, onLong);
  await engine.enqueue('noop', { t: now() });
  const deadline = Date.now() + 30_000;
  while (endedCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await engine.stop();
  if (endedCount === 0) throw new Error(`${ENGINE}: the smoke job did not run within 30 s`);
  send({ type: 'smoke', ok: true, node: process.version });
  process.exit(0);
}
if (ROLE === 'worker') await engine.work(onNoop, onLong);
send({ type: 'ready', startMs: performance.now() - started });

// The parent went away (finished or crashed): nothing to do any more.
process.once('disconnect', () => process.exit(0));
process.on('message', (message: ToChild) => {
  handle(message).catch((error: unknown) => {
    console.error(`[${ENGINE} ${ROLE}] ${message.type}: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  });
});
