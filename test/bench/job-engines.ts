/**
 * @module test/bench/job-engines: pg-boss against graphile-worker on one local PostgreSQL, for
 * the durable background work of several provider instances sharing a database.
 *
 *   npm run bench:engines                    (= npx tsx test/bench/job-engines.ts)
 *   npx tsx test/bench/job-engines.ts --rounds 3 --jobs 5000 --enqueues 1000 --concurrency 10,32 --idle-seconds 30
 *   npx tsx test/bench/job-engines.ts --node /tmp/n22/node_modules/node/bin/node,/tmp/n2212/node_modules/node/bin/node
 *       (also start, enqueue and run a job on other Node binaries: `npm i --prefix /tmp/n22 node@22`,
 *       `npm i --prefix /tmp/n2212 node@22.12.0`)
 *   npx tsx test/bench/job-engines.ts --parts enqueue,jobs        (some parts only: smoke, idle, enqueue, jobs, crash, cancel)
 *
 * This process starts PostgreSQL (test/support/postgres.ts), gives each engine a database of its
 * own, and orchestrates; every engine runs in child processes (test/bench/job-engines-worker.ts,
 * through `node --import tsx`): producers (as a provider's web process would enqueue) and workers.
 * Everything compared is interleaved round by round (the order alternating), so drift (other
 * processes on this 2-core machine) hits both engines alike; rates are the median of the rounds,
 * latency percentiles are over every sample of every round, and each table gives the ratio.
 *
 * 1. Start: each engine's first start on an empty database (it installs its schema), a start on
 *    the installed schema, what the schema holds; whether a job runs on each Node binary given.
 * 2. Enqueue: send()/addJob() latency one at a time and 32 in flight; and inside a transaction
 *    of our own `postgres` client that also inserts an action row (pg-boss: send() with a `db`
 *    adapter over the transaction; graphile-worker: its SQL `add_job`), which is checked to leave
 *    no job when rolled back. Nothing works the queue meanwhile.
 * 3. Short jobs, one worker process at each `--concurrency`. `--jobs` no-op jobs enqueued in one
 *    call (pg-boss insert(), graphile-worker addJobs()) while the worker runs: jobs/s from that
 *    call to the last job's end (the drain rate; send → start is then mostly the wait in the
 *    backlog). `--jobs` / 2 jobs sent 32 at a time by a producer process (a busy provider: does
 *    the worker keep up?). 100 jobs sent 20 ms apart (an idle worker's pick-up). Send → start is
 *    from the producer's call to the handler's start. Each engine in two shapes:
 *    - a job per slot, the shape of long action work: pg-boss `localConcurrency` (batchSize 1),
 *      polling at its floor of 0.5 s, since a slot takes one job per polling interval unless a
 *      NOTIFY wakes it (at the defaults 30 s while NOTIFY is up, so a backlog drains at slots /
 *      30 s; it is given 20 × concurrency jobs, not `--jobs`); graphile-worker `concurrency`,
 *      which fetches again at once after each job;
 *    - batch fetching: pg-boss `batchSize` = concurrency with `burstWhenBatchFull` (the batch is
 *      handled, and settled, together); graphile-worker `localQueue.size` = concurrency (each job
 *      still run and settled on its own).
 * 4. Crash: worker A runs a long job; worker B is up; A is killed (SIGKILL); how long until B runs
 *    it, with each engine's most aggressive safe settings (pg-boss: heartbeatSeconds 10, its floor,
 *    supervisor every 1 s, polling 0.5 s; graphile-worker: its stale-lock sweep every 1-2 s, but
 *    the 4-hour lock age it looks for is fixed in its SQL, so after `--crash-wait` s the lock is
 *    aged 4 hours by hand to show the rest of the path).
 * 5. Cancel: a long job runs; another process cancels it (pg-boss cancel(); graphile-worker
 *    remove_job(), its admin function); how long until the running handler's AbortSignal fires.
 * 6. Idle: statements/s each engine's worker process (concurrency 10) sends (counted in the child
 *    on `pg`'s Client.query) and transactions/s PostgreSQL counts for its database
 *    (pg_stat_database), with defaults, with batch fetching and with the crash-drill settings,
 *    both engines idling at once.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import type { EngineName, FromChild, Profile, Role, ToChild } from './job-engines-worker.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = join(ROOT, 'test/bench/job-engines-worker.ts');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '5000' },
    enqueues: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '10,32' },
    'idle-seconds': { type: 'string', default: '30' },
    'crash-wait': { type: 'string', default: '20' },
    'cancel-wait': { type: 'string', default: '12' },
    node: { type: 'string', default: '' },
    parts: { type: 'string', default: 'smoke,idle,enqueue,jobs,crash,cancel' },
  },
});
const ROUNDS = Number(args.rounds);
const JOBS = Number(args.jobs);
const ENQUEUES = Number(args.enqueues);
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const IDLE_SECONDS = Number(args['idle-seconds']);
const CRASH_WAIT = Number(args['crash-wait']);
const CANCEL_WAIT = Number(args['cancel-wait']);
const NODES = args.node.split(',').filter(Boolean);
const PARTS = new Set(args.parts.split(','));
const ENGINES: EngineName[] = ['pgboss', 'graphile'];
const LABEL: Record<EngineName, string> = { pgboss: 'pg-boss', graphile: 'graphile-worker' };
/** Producers' pool: 32 sends in flight need 32 connections, or the figure is the pool's queue. */
const PRODUCER_POOL = 32;

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const load1 = () => loadavg()[0]?.toFixed(1) ?? '?';
const loadBefore = load1();
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const fmt = (n: number) => (Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n: number) =>
  Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
const s1 = (msValue: number) => (msValue / 1000).toFixed(1);
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '–');
/** Round r's order: alternating, so neither engine always goes first. */
const ordered = <T>(items: T[], round: number) => (round % 2 === 1 ? items : [...items].reverse());

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  engine: EngineName;
  proc: ChildProcess;
  startMs: number;
  /** Send a request and wait for the reply of this type. */
  request<T extends FromChild['type']>(message: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>>;
  /** The next message of this type matching `accept`, or undefined after `timeoutMs`. */
  next<T extends FromChild['type']>(
    type: T,
    timeoutMs: number,
    accept?: (message: Extract<FromChild, { type: T }>) => boolean,
  ): Promise<Extract<FromChild, { type: T }> | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

interface ChildOptions {
  role: Role;
  profile?: Profile;
  concurrency?: number;
  queue?: string;
  pool?: number;
  heartbeatRefresh?: number;
  execPath?: string;
}

const urls = new Map<EngineName, string>();

function forkChild(engine: EngineName, options: ChildOptions): ChildProcess {
  return fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    ...(options.execPath ? { execPath: options.execPath } : {}),
    env: {
      ...process.env,
      BENCH_ENGINE: engine,
      BENCH_URL: urls.get(engine) as string,
      BENCH_ROLE: options.role,
      BENCH_PROFILE: options.profile ?? 'default',
      BENCH_CONCURRENCY: String(options.concurrency ?? 10),
      BENCH_QUEUE: options.queue ?? 'noop',
      BENCH_POOL: String(options.pool ?? 10),
      ...(options.heartbeatRefresh ? { BENCH_HEARTBEAT_REFRESH: String(options.heartbeatRefresh) } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

const children = new Set<Child>();

async function startChild(engine: EngineName, options: ChildOptions): Promise<Child> {
  const proc = forkChild(engine, options);
  const what = `${LABEL[engine]} ${options.role}`;
  const next: Child['next'] = (type, timeoutMs, accept) =>
    new Promise((resolvePromise) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== type) return;
        const typed = message as Extract<FromChild, { type: typeof type }>;
        if (accept && !accept(typed)) return;
        done(typed);
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (value: Extract<FromChild, { type: typeof type }> | undefined) => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        resolvePromise(value);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });
  const ready = await next('ready', 120_000);
  if (!ready) throw new Error(`${what} exited (${proc.exitCode}) before it was ready`);
  const child: Child = {
    engine,
    proc,
    startMs: ready.startMs,
    next,
    async request(message, reply) {
      const answer = next(reply, 600_000);
      proc.send(message);
      const value = await answer;
      if (!value) throw new Error(`${what}: no '${reply}' for '${message.type}' (exit ${proc.exitCode})`);
      return value;
    },
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.send({ type: 'exit' } satisfies ToChild);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
  };
  children.add(child);
  return child;
}

// ---------------------------------------------------------------------------------------------
// Setup

// Interrupted (Ctrl-C, a timeout): still stop the children and PostgreSQL, and remove its files.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.proc.kill('SIGKILL');
    try {
      pg?.stop();
    } finally {
      process.exit(130);
    }
  });
}

let pg: PostgresServer | undefined;
let admin: ReturnType<typeof postgres> | undefined;
const engineDb = new Map<EngineName, ReturnType<typeof postgres>>();
let pgVersion = '?';
const versions: Record<EngineName, { version: string; node: string; pg: string }> = {
  pgboss: { version: '?', node: '?', pg: '?' },
  graphile: { version: '?', node: '?', pg: '?' },
};

interface StartResult {
  firstMs: number;
  againMs: number;
  tables: number;
  functions: number;
  schema: string;
  tx: { rolledBackLeftJob: boolean; committedLeftJob: boolean };
  nodes: { node: string; ok: boolean; detail: string }[];
}
const startResults = new Map<EngineName, StartResult>();
interface EnqueueRow {
  name: string;
  latencies: Record<EngineName, number[]>;
  rates: Record<EngineName, number[]>;
}
const enqueueRows: EnqueueRow[] = [];
interface JobsRow {
  concurrency: number;
  variant: string;
  engine: EngineName;
  /** Jobs in the one-call batch: `--jobs`, but 20 × concurrency for pg-boss per slot (it drains at 2 × concurrency /s). */
  bulkN: number;
  rates: number[];
  lags: number[];
  stream: number[];
  streamRates: number[];
  paced: number[];
}
const jobsRows: JobsRow[] = [];
interface DrillResult {
  engine: EngineName;
  variant: string;
  times: number[];
  misses: number;
  attempts: number[];
  /** graphile-worker: after the lock was aged 4 h by hand, how long the sweep took. */
  afterAging: number[];
}
const crashResults: DrillResult[] = [];
const cancelResults: DrillResult[] = [];
interface IdleResult {
  profile: Profile;
  engine: EngineName;
  statementsPerS: number;
  xactsPerS: number;
  connections: number;
  top: [string, number][];
}
const idleResults: IdleResult[] = [];

/** Drop every job (nothing is running when this is called) and the action rows. */
async function clearJobs(engine: EngineName): Promise<void> {
  const sql = engineDb.get(engine) as ReturnType<typeof postgres>;
  if (engine === 'pgboss') await sql.unsafe('DELETE FROM pgboss.job');
  else await sql.unsafe('DELETE FROM graphile_worker._private_jobs');
  await sql.unsafe('TRUNCATE bench_actions');
}

try {
  log('starting PostgreSQL');
  pg = await startPostgres();
  admin = postgres(pg.url, { max: 2, onnotice: () => {} });
  pgVersion = String((await admin.unsafe('SHOW server_version'))[0]?.['server_version'] ?? '?');
  for (const engine of ENGINES) {
    const name = `bench_${engine}`;
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(pg.url);
    url.pathname = `/${name}`;
    urls.set(engine, url.href);
    const sql = postgres(url.href, { max: 2, onnotice: () => {} });
    await sql.unsafe(
      'CREATE TABLE bench_actions (action_id uuid PRIMARY KEY, created timestamptz NOT NULL DEFAULT now())',
    );
    engineDb.set(engine, sql);
    const pkg = (await import(
      `${ROOT}/node_modules/${engine === 'pgboss' ? 'pg-boss' : 'graphile-worker'}/package.json`,
      {
        with: { type: 'json' },
      }
    )) as { default: { version: string; engines?: { node?: string }; dependencies?: Record<string, string> } };
    versions[engine] = {
      version: pkg.default.version,
      node: pkg.default.engines?.node ?? '?',
      pg: pkg.default.dependencies?.['pg'] ?? '?',
    };
  }

  // -------------------------------------------------------------------------------------------
  // 1. Start: first start installs the schema; a second start finds it.
  for (const engine of ENGINES) {
    const first = await startChild(engine, { role: 'producer', pool: PRODUCER_POOL });
    const tx = await first.request({ type: 'txcheck' }, 'txcheck');
    await first.stop();
    const again = await startChild(engine, { role: 'producer', pool: PRODUCER_POOL });
    await again.stop();
    const sql = engineDb.get(engine) as ReturnType<typeof postgres>;
    const schema = engine === 'pgboss' ? 'pgboss' : 'graphile_worker';
    const [objects] = await sql.unsafe(
      `SELECT (SELECT count(*)::int FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p', 'v')) AS tables,
              (SELECT count(*)::int FROM pg_proc WHERE pronamespace = $1::regnamespace) AS functions`,
      [schema],
    );
    startResults.set(engine, {
      firstMs: first.startMs,
      againMs: again.startMs,
      tables: Number(objects?.['tables']),
      functions: Number(objects?.['functions']),
      schema,
      tx,
      nodes: [],
    });
    if (tx.rolledBackLeftJob || !tx.committedLeftJob)
      throw new Error(`${LABEL[engine]}: enqueue in our transaction is not atomic: ${JSON.stringify(tx)}`);
    log(
      `${LABEL[engine]}: first start ${ms(first.startMs)} ms (schema ${schema}: ${String(objects?.['tables'])} tables/views, ${String(objects?.['functions'])} functions), again ${ms(again.startMs)} ms; enqueue in our transaction: rollback leaves no job, commit leaves one`,
    );
    await clearJobs(engine);
  }

  if (PARTS.has('smoke')) {
    for (const execPath of [process.execPath, ...NODES]) {
      for (const engine of ENGINES) {
        const proc = forkChild(engine, { role: 'smoke', execPath });
        const result = await new Promise<{ ok: boolean; detail: string }>((resolvePromise) => {
          let detail = '';
          proc.on('message', (message: FromChild) => {
            if (message.type === 'smoke') detail = message.node;
          });
          proc.once('exit', (code) =>
            resolvePromise({ ok: code === 0 && detail !== '', detail: detail || `exit ${code}` }),
          );
        });
        const version = result.ok
          ? result.detail
          : String(
              (await import('node:child_process')).execFileSync(execPath, ['--version'], { encoding: 'utf8' }),
            ).trim();
        startResults.get(engine)?.nodes.push({ node: version, ok: result.ok, detail: result.detail });
        log(`${LABEL[engine]} on Node ${version}: ${result.ok ? 'a job ran' : `FAILED (${result.detail})`}`);
        await clearJobs(engine);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // 6 (first: nothing else running). Idle cost.
  if (PARTS.has('idle')) {
    for (const profile of ['default', 'batch', 'drill'] as const) {
      // Nothing left for autovacuum to do meanwhile (its transactions count in pg_stat_database).
      for (const sql of engineDb.values()) await sql.unsafe('VACUUM ANALYZE');
      const workers = await Promise.all(
        ENGINES.map((engine) =>
          startChild(engine, {
            role: 'worker',
            profile,
            concurrency: 10,
            queue: profile === 'drill' ? 'long' : 'noop',
          }),
        ),
      );
      // Past start-up, and past the 10 s an idle backend may hold its statistics before flushing them.
      await sleep(12_000);
      const xacts = async () =>
        new Map(
          (
            await (admin as ReturnType<typeof postgres>).unsafe(
              `SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname LIKE 'bench_%'`,
            )
          ).map((r) => [String(r['datname']), Number(r['n'])]),
        );
      const before = await Promise.all(workers.map((w) => w.request({ type: 'queries' }, 'queries')));
      const xBefore = await xacts();
      const t0 = performance.now();
      await sleep(IDLE_SECONDS * 1000);
      const after = await Promise.all(workers.map((w) => w.request({ type: 'queries' }, 'queries')));
      const seconds = (performance.now() - t0) / 1000;
      await sleep(1500); // pg_stat_database is flushed by each backend at most once a second
      const xAfter = await xacts();
      const connections = new Map(
        (
          await (admin as ReturnType<typeof postgres>).unsafe(
            `SELECT datname, count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'bench_%' AND backend_type = 'client backend' GROUP BY datname`,
          )
        ).map((r) => [String(r['datname']), Number(r['n'])]),
      );
      for (const [i, worker] of workers.entries()) {
        const engine = worker.engine;
        const b = before[i] as Extract<FromChild, { type: 'queries' }>;
        const a = after[i] as Extract<FromChild, { type: 'queries' }>;
        const top = Object.entries(a.byStatement)
          .map(([k, v]) => [k, v - (b.byStatement[k] ?? 0)] as [string, number])
          .filter(([, v]) => v > 0)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 4);
        const db = `bench_${engine}`;
        const result: IdleResult = {
          profile,
          engine,
          statementsPerS: (a.total - b.total) / seconds,
          // Our own two bookkeeping connections per database are idle (they ran nothing meanwhile).
          xactsPerS: ((xAfter.get(db) ?? 0) - (xBefore.get(db) ?? 0)) / seconds,
          connections: (connections.get(db) ?? 0) - 2,
          top,
        };
        idleResults.push(result);
        log(
          `idle ${profile} ${LABEL[engine]}: ${result.statementsPerS.toFixed(2)} statements/s, ${result.xactsPerS.toFixed(2)} xacts/s, ${result.connections} connections; top: ${top.map(([k, v]) => `${v}× ${k}`).join(' | ')}`,
        );
      }
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  const producers = new Map<EngineName, Child>();
  for (const engine of ENGINES)
    producers.set(engine, await startChild(engine, { role: 'producer', pool: PRODUCER_POOL }));
  const producer = (engine: EngineName) => producers.get(engine) as Child;

  // -------------------------------------------------------------------------------------------
  // 2. Enqueue latency and throughput.
  if (PARTS.has('enqueue')) {
    const kinds = [
      { name: 'send()/addJob(), one at a time', n: ENQUEUES, concurrency: 1, via: 'api' as const },
      { name: 'send()/addJob(), 32 in flight', n: ENQUEUES * 2, concurrency: 32, via: 'api' as const },
      {
        name: 'in our transaction (INSERT action + enqueue, postgres client), one at a time',
        n: ENQUEUES,
        concurrency: 1,
        via: 'tx' as const,
      },
      {
        name: 'in our transaction, 32 in flight',
        n: ENQUEUES * 2,
        concurrency: 32,
        via: 'tx' as const,
      },
    ];
    for (const kind of kinds)
      enqueueRows.push({
        name: kind.name,
        latencies: { pgboss: [], graphile: [] },
        rates: { pgboss: [], graphile: [] },
      });
    for (const engine of ENGINES) {
      for (const kind of kinds)
        await producer(engine).request(
          { type: 'enqueue', queue: 'sink', n: 200, concurrency: kind.concurrency, via: kind.via },
          'enqueued',
        ); // warm-up
      await clearJobs(engine);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [k, kind] of kinds.entries()) {
        for (const engine of ordered(ENGINES, round)) {
          const row = enqueueRows[k] as EnqueueRow;
          const result = await producer(engine).request(
            { type: 'enqueue', queue: 'sink', n: kind.n, concurrency: kind.concurrency, via: kind.via },
            'enqueued',
          );
          row.latencies[engine].push(...result.latencies);
          const rate = (kind.n / result.elapsedMs) * 1000;
          row.rates[engine].push(rate);
          log(
            `round ${round}/${ROUNDS} ${LABEL[engine]} ${kind.name}: ${fmt(rate)}/s, p50 ${ms(percentile(result.latencies, 50))} ms, p99 ${ms(percentile(result.latencies, 99))} ms`,
          );
          await clearJobs(engine);
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // 3. Short jobs.
  if (PARTS.has('jobs')) {
    const variants = [
      {
        engine: 'pgboss' as const,
        variant: 'a job per slot (localConcurrency), polling 0.5 s',
        profile: 'poll' as const,
        queue: 'noop',
      },
      {
        engine: 'pgboss' as const,
        variant: 'batches (batchSize, burstWhenBatchFull)',
        profile: 'batch' as const,
        queue: 'noop_batch',
      },
      {
        engine: 'graphile' as const,
        variant: 'a job per slot (concurrency)',
        profile: 'default' as const,
        queue: 'noop',
      },
      {
        engine: 'graphile' as const,
        variant: 'batches (localQueue size = concurrency)',
        profile: 'batch' as const,
        queue: 'noop_batch',
      },
    ];
    for (const concurrency of CONCURRENCIES) {
      const running: ((typeof variants)[number] & { worker: Child; row: JobsRow })[] = [];
      for (const v of variants) {
        const worker = await startChild(v.engine, {
          role: 'worker',
          profile: v.profile,
          concurrency,
          queue: v.queue,
          // A connection per slot; batch fetching needs few (and max_connections is 200).
          pool: v.profile === 'batch' ? 10 : Math.max(10, concurrency),
        });
        const row: JobsRow = {
          concurrency,
          variant: v.variant,
          engine: v.engine,
          bulkN: v.profile === 'poll' ? Math.min(JOBS, 20 * concurrency) : JOBS,
          rates: [],
          lags: [],
          stream: [],
          streamRates: [],
          paced: [],
        };
        jobsRows.push(row);
        running.push({ ...v, worker, row });
      }
      const measureOnce = async (r: (typeof running)[number], n: number, how: 'bulk' | 'stream' | 'paced') => {
        const done = r.worker.next('done', 600_000);
        r.worker.proc.send({ type: 'expect', n } satisfies ToChild);
        await sleep(50); // the expect lands first
        let startedAt = 0;
        if (how === 'paced') await producer(r.engine).request({ type: 'paced', queue: r.queue, n, gapMs: 20 }, 'paced');
        else if (how === 'bulk')
          startedAt = (await producer(r.engine).request({ type: 'bulk', queue: r.queue, n }, 'enqueued')).startedAt;
        else
          startedAt = (
            await producer(r.engine).request(
              { type: 'enqueue', queue: r.queue, n, concurrency: 32, via: 'api' },
              'enqueued',
            )
          ).startedAt;
        const finished = await done;
        if (!finished) throw new Error(`${r.engine} ${r.variant}: the jobs did not all run`);
        return { lags: finished.lags, rate: (n / (finished.lastEnd - startedAt)) * 1000 };
      };
      for (const r of running) {
        await measureOnce(r, 100, 'bulk'); // warm-up
        log(`warm-up ${r.engine} ${r.variant} done`);
      }
      for (let round = 1; round <= ROUNDS; round++) {
        for (const r of ordered(running, round)) {
          const bulk = await measureOnce(r, r.row.bulkN, 'bulk');
          r.row.rates.push(bulk.rate);
          r.row.lags.push(...bulk.lags);
          await clearJobs(r.engine);
          const stream = await measureOnce(r, Math.round(JOBS / 2), 'stream');
          r.row.streamRates.push(stream.rate);
          r.row.stream.push(...stream.lags);
          const paced = await measureOnce(r, 100, 'paced');
          r.row.paced.push(...paced.lags);
          log(
            `round ${round}/${ROUNDS} c=${concurrency} ${LABEL[r.engine]} ${r.variant}: drain ${fmt(bulk.rate)} jobs/s (send→start p50 ${ms(percentile(bulk.lags, 50))} ms); ` +
              `32 senders ${fmt(stream.rate)} jobs/s, send→start p50 ${ms(percentile(stream.lags, 50))} ms p99 ${ms(percentile(stream.lags, 99))} ms; paced p50 ${ms(percentile(paced.lags, 50))} ms p99 ${ms(percentile(paced.lags, 99))} ms`,
          );
          await clearJobs(r.engine);
        }
      }
      await Promise.all(running.map((r) => r.worker.stop()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // 4. Crash: kill -9 of the worker holding a job.
  if (PARTS.has('crash')) {
    for (const engine of ENGINES)
      crashResults.push({ engine, variant: 'drill', times: [], misses: 0, attempts: [], afterAging: [] });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const engine of ordered(ENGINES, round)) {
        const result = crashResults.find((r) => r.engine === engine) as DrillResult;
        const drill = { role: 'worker' as const, profile: 'drill' as const, concurrency: 1, queue: 'long' };
        const a = await startChild(engine, drill);
        const key = `action-${crypto.randomUUID()}`;
        const aStarted = a.next('started', 30_000);
        const { id } = await producer(engine).request({ type: 'long', key }, 'long');
        if (!(await aStarted)) throw new Error(`${LABEL[engine]}: worker A did not start the job`);
        const b = await startChild(engine, drill);
        const bStarted = b.next('started', CRASH_WAIT * 1000, (m) => m.id === id);
        await sleep(Math.random() * 1000); // anywhere in the heartbeat cycle
        const killedAt = now();
        await a.kill();
        const picked = await bStarted;
        if (picked) {
          result.times.push(picked.at - killedAt);
          result.attempts.push(picked.attempt);
          log(
            `round ${round}/${ROUNDS} crash ${LABEL[engine]}: B ran the job ${s1(picked.at - killedAt)} s after the kill (attempt ${picked.attempt})`,
          );
        } else {
          result.misses++;
          let aged = '';
          if (engine === 'graphile') {
            // What a crashed graphile-worker's job waits for: its lock to turn 4 hours old.
            const sql = engineDb.get(engine) as ReturnType<typeof postgres>;
            const bAfter = b.next('started', 15_000, (m) => m.id === id);
            await sql.unsafe(
              `UPDATE graphile_worker._private_jobs SET locked_at = locked_at - interval '4 hours 1 second' WHERE locked_at IS NOT NULL`,
            );
            const agedAt = now();
            const after = await bAfter;
            if (after) result.afterAging.push(after.at - agedAt);
            aged = after
              ? `; with its lock aged 4 h by hand, B's sweep ran it ${s1(after.at - agedAt)} s later (attempt ${after.attempt})`
              : '; not even after aging its lock 4 h';
          }
          log(`round ${round}/${ROUNDS} crash ${LABEL[engine]}: not run by B within ${CRASH_WAIT} s${aged}`);
        }
        await b.stop();
        await clearJobs(engine);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // 5. Cancel from another process: how fast the running handler hears of it.
  if (PARTS.has('cancel')) {
    const variants = [
      { engine: 'pgboss' as const, variant: 'heartbeatSeconds 10, refresh 5 s (default: half)', refresh: 0 },
      { engine: 'pgboss' as const, variant: 'heartbeatSeconds 10, heartbeatRefreshSeconds 1', refresh: 1 },
      { engine: 'graphile' as const, variant: 'remove_job(key)', refresh: 0 },
    ];
    for (const v of variants)
      cancelResults.push({ engine: v.engine, variant: v.variant, times: [], misses: 0, attempts: [], afterAging: [] });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, v] of ordered([...variants.entries()], round)) {
        const result = cancelResults[i] as DrillResult;
        const worker = await startChild(v.engine, {
          role: 'worker',
          profile: 'drill',
          concurrency: 1,
          queue: 'long',
          ...(v.refresh ? { heartbeatRefresh: v.refresh } : {}),
        });
        const key = `action-${crypto.randomUUID()}`;
        const wStarted = worker.next('started', 30_000);
        const { id } = await producer(v.engine).request({ type: 'long', key }, 'long');
        if (!(await wStarted)) throw new Error(`${LABEL[v.engine]}: the worker did not start the job`);
        await sleep(Math.random() * 1000);
        const aborted = worker.next('aborted', CANCEL_WAIT * 1000, (m) => m.id === id);
        const { at } = await producer(v.engine).request({ type: 'cancel', id, key }, 'cancelled');
        const heard = await aborted;
        if (heard) {
          result.times.push(heard.at - at);
          log(
            `round ${round}/${ROUNDS} cancel ${LABEL[v.engine]} ${v.variant}: the handler's signal fired ${s1(heard.at - at)} s after cancel`,
          );
        } else {
          result.misses++;
          log(
            `round ${round}/${ROUNDS} cancel ${LABEL[v.engine]} ${v.variant}: the handler heard nothing in ${CANCEL_WAIT} s`,
          );
        }
        await worker.stop();
        await clearJobs(v.engine);
      }
    }
  }
} finally {
  for (const child of [...children]) await child.kill().catch(() => {});
  for (const sql of engineDb.values()) await sql.end({ timeout: 5 }).catch(() => {});
  await admin?.end({ timeout: 5 }).catch(() => {});
  pg?.stop();
}

// ---------------------------------------------------------------------------------------------
// Report

const command = `npx tsx test/bench/job-engines.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const lat = (values: number[]) => `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;
const lines = [
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; PostgreSQL ${pgVersion} (local, same cores); load average ${loadBefore} before, ${load1()} after`,
  `Command: \`${command}\` (${ROUNDS} rounds, engines alternating within each; rates the median of the rounds, latency percentiles over all samples; each engine in child processes on its own database)`,
  `Versions: ${ENGINES.map((e) => `${LABEL[e]} ${versions[e].version} (engines.node ${versions[e].node}, pg ${versions[e].pg})`).join('; ')}`,
  '',
];
if (startResults.size > 0) {
  lines.push(
    '| Engine | first start, empty database (ms) | start, schema installed (ms) | schema | rollback of our transaction leaves the job out | Node versions a job ran on |',
    '| --- | ---: | ---: | --- | --- | --- |',
    ...ENGINES.map((e) => {
      const r = startResults.get(e) as StartResult;
      const nodes = r.nodes.map((n) => `${n.node}: ${n.ok ? 'yes' : `**no** (${n.detail})`}`).join(', ') || '–';
      return `| ${LABEL[e]} | ${ms(r.firstMs)} | ${ms(r.againMs)} | \`${r.schema}\`: ${r.tables} tables/views, ${r.functions} functions | ${!r.tx.rolledBackLeftJob && r.tx.committedLeftJob ? 'yes' : 'no'} | ${nodes} |`;
    }),
    '',
  );
}
if (enqueueRows.length > 0) {
  lines.push(
    '| Enqueue | pg-boss /s | p50 / p99 (ms) | graphile-worker /s | p50 / p99 (ms) | graphile-worker ÷ pg-boss (rate) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...enqueueRows.map(
      (r) =>
        `| ${r.name} | ${fmt(median(r.rates.pgboss))} | ${lat(r.latencies.pgboss)} | ${fmt(median(r.rates.graphile))} | ${lat(r.latencies.graphile)} | ${ratio(median(r.rates.graphile), median(r.rates.pgboss))} |`,
    ),
    '',
  );
}
if (jobsRows.length > 0) {
  /** The pg-boss row of the same concurrency and shape (a job per slot, or batches). */
  const base = (r: JobsRow) =>
    jobsRows.find(
      (p) =>
        p.concurrency === r.concurrency &&
        p.engine === 'pgboss' &&
        p.variant.startsWith('batches') === r.variant.startsWith('batches'),
    );
  lines.push(
    `| No-op jobs, one worker process | concurrency | jobs in one call | jobs/s | ÷ pg-boss, same shape | send → start p50 / p99 (ms) | ${fmt(Math.round(JOBS / 2))} from 32 senders: jobs/s | send → start p50 / p99 (ms) | 100, 20 ms apart: send → start p50 / p99 (ms) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...jobsRows.map(
      (r) =>
        `| ${LABEL[r.engine]}, ${r.variant} | ${r.concurrency} | ${fmt(r.bulkN)} | ${fmt(median(r.rates))} | ${ratio(median(r.rates), median(base(r)?.rates ?? []))} | ${lat(r.lags)} | ${fmt(median(r.streamRates))} | ${lat(r.stream)} | ${lat(r.paced)} |`,
    ),
    '',
  );
}
const drillRow = (r: DrillResult, kind: 'crash' | 'cancel') => {
  const seen = r.times.length;
  const total = seen + r.misses;
  const times =
    seen > 0
      ? `${s1(median(r.times))} s (${s1(Math.min(...r.times))}–${s1(Math.max(...r.times))}), ${seen} of ${total}`
      : `not within ${kind === 'crash' ? CRASH_WAIT : CANCEL_WAIT} s (${total} of ${total})`;
  const extra =
    kind === 'crash'
      ? r.engine === 'graphile'
        ? `locks are released once 4 h old (fixed in SQL)${r.afterAging.length > 0 ? `; aged by hand, the sweep took ${s1(median(r.afterAging))} s` : ''}`
        : `attempt ${r.attempts.join(', ')} (retryCount + 1)`
      : r.engine === 'graphile'
        ? 'remove_job only keeps a locked job from being retried'
        : 'job.signal aborts when a heartbeat finds the job no longer active';
  return `| ${LABEL[r.engine]}, ${r.variant} | ${times} | ${extra} |`;
};
if (crashResults.length > 0) {
  lines.push(
    '| Crash (SIGKILL of the worker holding the job) | another process runs it after: median (min–max), rounds seen | note |',
    '| --- | ---: | --- |',
    ...crashResults.map((r) =>
      drillRow(
        {
          ...r,
          variant:
            r.engine === 'pgboss' ? 'heartbeatSeconds 10, supervise 1 s, poll 0.5 s' : 'sweep every 1–2 s, poll 0.5 s',
        },
        'crash',
      ),
    ),
    '',
  );
}
if (cancelResults.length > 0) {
  lines.push(
    '| Cancel from another process | the running handler hears it after: median (min–max), rounds seen | note |',
    '| --- | ---: | --- |',
    ...cancelResults.map((r) => drillRow(r, 'cancel')),
    '',
  );
}
if (idleResults.length > 0) {
  lines.push(
    `| Idle worker process (concurrency 10), ${IDLE_SECONDS} s | statements/s (client) | transactions/s (pg_stat_database) | connections held | most frequent statements |`,
    '| --- | ---: | ---: | ---: | --- |',
    ...idleResults.map(
      (r) =>
        `| ${LABEL[r.engine]}, ${
          {
            default: 'defaults',
            poll: 'polling 0.5 s',
            batch: 'batch fetching (as in the jobs table)',
            drill: 'crash-drill settings',
          }[r.profile]
        } | ${r.statementsPerS.toFixed(2)} | ${r.xactsPerS.toFixed(2)} | ${r.connections} | ${r.top.map(([k, v]) => `${v}× \`${k.replace(/\|/g, '\\|')}\``).join('; ')} |`,
    ),
    '',
  );
}
lines.push(`Total time: ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(lines.join('\n'));
