/**
 * @module test/bench/work-engines: short background jobs through each work engine: a run that
 * leaves the action ACTIVE, a `work` callback that returns SUCCEEDED at once, and the stored
 * SUCCEEDED; on the memory store's engine, SQLite's lease table and PostgreSQL's pg-boss.
 *
 *   npm run bench:work                       (= npx tsx test/bench/work-engines.ts)
 *   npx tsx test/bench/work-engines.ts --jobs 2000 --rounds 3 --in-flight 32 --concurrency 100
 *   npx tsx test/bench/work-engines.ts --engines pg-boss,pg-boss-x3   (some engines only)
 *
 * Everything runs in this process: the providers (testProvider, in-process requests, no HTTP),
 * their workers, and the load: `--jobs` runs, `--in-flight` at a time, round-robin over the
 * providers of the engine. PostgreSQL is a real server (test/support/postgres.ts); `pg-boss-x3` is
 * three providers, each with a store (and a pool) of its own, sharing one database, as three
 * instances would (here sharing this process's CPU too). Each round uses fresh tables (a new
 * SQLite file, a new table prefix and so a new pg-boss queue), engines interleaved round by
 * round in alternating order; a warm-up round of each engine is not counted.
 *
 * Per engine: jobs/s from the first run to the last SUCCEEDED stored (seen through
 * `actions.count()`, polled every 20 ms), runs/s (the runs alone, each storing its answer and
 * queuing its work), and the latency from a run's start_time to its work's start under that load
 * (p50/p99); then `--paced` runs one at a time on an idle engine, from the run request to the
 * work's start. `postgres-run-only` is the baseline: the same runs on PostgreSQL answering
 * SUCCEEDED themselves, no work. Rates are the median of the rounds, percentiles over every job
 * of every round. Last, what an idle instance costs the database: transactions/s PostgreSQL
 * counts (pg_stat_database) over `--idle-seconds` for one idle provider with work, at the default
 * worker settings (lease 30 s, poll 1 s) and at a 10 s lease (pg-boss's supervisor every second).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ActionProvider, type ActionStore, memoryStore, type WorkContext } from '../../src/index.ts';
import { postgresStore } from '../../src/store/postgres.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { sleep } from '../support/async.ts';
import { tokens } from '../support/identities.ts';
import { freshDatabase, type PostgresServer, startPostgres, uniqueName } from '../support/postgres.ts';
import { testProvider } from '../support/providers.ts';
import { inProcessClient } from '../support/transports.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '100' },
    engines: { type: 'string', default: 'memory,sqlite,pg-boss,pg-boss-x3,postgres-run-only' },
    paced: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '10' },
  },
});
const JOBS = Number(args.jobs);
const ROUNDS = Number(args.rounds);
const IN_FLIGHT = Number(args['in-flight']);
const CONCURRENCY = Number(args.concurrency);
const PACED = Number(args.paced);
const IDLE_SECONDS = Number(args['idle-seconds']);

type EngineName = 'memory' | 'sqlite' | 'pg-boss' | 'pg-boss-x3' | 'postgres-run-only';
const ENGINES = args.engines.split(',') as EngineName[];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const fmt = (n: number) => (Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));

let pg: PostgresServer | undefined;
let pgUrl = '';
const dirs: string[] = [];
const drops: (() => Promise<void>)[] = [];

interface Setup {
  providers: ActionProvider[];
  close(): Promise<void>;
}

/** Fresh stores for one round of `engine`, with `work` as every provider's callback. */
async function setup(engine: EngineName, work: (context: WorkContext) => unknown): Promise<Setup> {
  const stores: ActionStore[] = [];
  if (engine === 'memory') stores.push(memoryStore());
  else if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gap-bench-work-'));
    dirs.push(dir);
    stores.push(await openSqliteStore(join(dir, 'actions.db')));
  } else {
    const prefix = `${uniqueName('b')}_`;
    for (let i = 0; i < (engine === 'pg-boss-x3' ? 3 : 1); i++)
      stores.push(await postgresStore({ url: pgUrl, tablePrefix: prefix }));
  }
  // The baseline: the same runs on PostgreSQL answering SUCCEEDED themselves, no work queued.
  const providers = stores.map((store) =>
    engine === 'postgres-run-only'
      ? testProvider({ store, run: () => ({ status: 'SUCCEEDED' }) })
      : testProvider({ store, work: work as never, worker: { concurrency: CONCURRENCY } }),
  );
  await Promise.all(providers.map((p) => p.worker?.start()));
  return {
    providers,
    async close() {
      await Promise.all(providers.map((p) => p.close()));
    },
  };
}

interface Sample {
  jobsPerS: number;
  runsPerS: number;
  pickups: number[];
}

/** One run at a time on an idle engine: from the run request to its work's start, per run. */
async function paced(engine: EngineName, runs: number, token: string): Promise<number[]> {
  if (engine === 'postgres-run-only') return [];
  let started: (() => void) | undefined;
  const { providers, close } = await setup(engine, () => {
    started?.();
    return { status: 'SUCCEEDED' };
  });
  try {
    const client = inProcessClient(providers[0] as ActionProvider, { token });
    const latencies: number[] = [];
    for (let i = 0; i < runs; i++) {
      const begun = new Promise<void>((resolve) => {
        started = resolve;
      });
      const sent = performance.now();
      const reply = await client.run({ body: { i } });
      if (reply.status !== 202) throw new Error(`${engine}: run answered ${reply.status} ${reply.text}`);
      await begun;
      latencies.push(performance.now() - sent);
      await sleep(20);
    }
    return latencies;
  } finally {
    await close();
  }
}

async function round(engine: EngineName, jobs: number, token: string): Promise<Sample> {
  const pickups: number[] = [];
  const { providers, close } = await setup(engine, ({ action }) => {
    pickups.push(Date.now() - Date.parse(action.start_time));
    return { status: 'SUCCEEDED' };
  });
  try {
    const clients = providers.map((p) => inProcessClient(p, { token }));
    const counter = providers[0] as ActionProvider;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < jobs) {
          const i = next++;
          const reply = await (clients[i % clients.length] as (typeof clients)[number]).run({ body: { i } });
          if (reply.status !== 202) throw new Error(`${engine}: run answered ${reply.status} ${reply.text}`);
        }
      }),
    );
    const ran = performance.now();
    for (;;) {
      const counts = await counter.actions.count();
      if (counts.SUCCEEDED >= jobs) break;
      if (counts.FAILED > 0) throw new Error(`${engine}: ${counts.FAILED} jobs FAILED`);
      if (performance.now() - started > 600_000) throw new Error(`${engine}: not done in 10 minutes`);
      await sleep(20);
    }
    const ended = performance.now();
    return { jobsPerS: (jobs / (ended - started)) * 1000, runsPerS: (jobs / (ran - started)) * 1000, pickups };
  } finally {
    await close();
  }
}

try {
  const load = loadavg()[0]?.toFixed(1) ?? '?';
  if (ENGINES.some((e) => e.startsWith('pg-boss'))) {
    pg = await startPostgres();
    const db = await freshDatabase(pg.url);
    pgUrl = db.url;
    drops.push(db.drop);
  }
  const { creator: token } = await tokens();
  const pgBoss = (await import('pg-boss/package.json', { with: { type: 'json' } })) as { default: { version: string } };
  console.log(
    `Short jobs: ${JOBS} runs, ${IN_FLIGHT} in flight, worker concurrency ${CONCURRENCY}, ${ROUNDS} rounds ` +
      `(Node ${process.version}, pg-boss ${pgBoss.default.version}, load ${load} before)`,
  );
  for (const engine of ENGINES) await round(engine, Math.min(200, JOBS), token); // warm-up
  const pacedLatencies = new Map<EngineName, number[]>();
  for (const engine of ENGINES) pacedLatencies.set(engine, await paced(engine, PACED, token));
  const samples = new Map<EngineName, Sample[]>(ENGINES.map((e) => [e, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const engine of r % 2 === 0 ? ENGINES : [...ENGINES].reverse()) {
      const sample = await round(engine, JOBS, token);
      samples.get(engine)?.push(sample);
      console.log(`  round ${r + 1} ${engine}: ${fmt(sample.jobsPerS)} jobs/s, ${fmt(sample.runsPerS)} runs/s`);
    }
  }
  console.log('');
  console.log(
    '| engine | jobs/s (run → work → SUCCEEDED) | runs/s | start → work, under load p50 / p99 | run → work, one at a time p50 / p99 |',
  );
  console.log('|---|---:|---:|---:|---:|');
  const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(1) : fmt(n));
  for (const engine of ENGINES) {
    const list = samples.get(engine) ?? [];
    const pickups = list.flatMap((s) => s.pickups);
    const one = pacedLatencies.get(engine) ?? [];
    console.log(
      `| ${engine} | ${fmt(median(list.map((s) => s.jobsPerS)))} | ${fmt(median(list.map((s) => s.runsPerS)))} | ` +
        `${ms(percentile(pickups, 50))} / ${ms(percentile(pickups, 99))} ms | ${ms(percentile(one, 50))} / ${ms(percentile(one, 99))} ms |`,
    );
  }
  if (IDLE_SECONDS > 0 && pg !== undefined) {
    console.log('');
    const admin = (await import('postgres')).default(pgUrl, { max: 1, onnotice: () => {} });
    const xacts = async () =>
      Number(
        (
          await admin.unsafe(
            'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
          )
        )[0]?.['n'],
      );
    for (const lease of [30_000, 10_000]) {
      const store = await postgresStore({ url: pgUrl, tablePrefix: `${uniqueName('i')}_` });
      const idle = testProvider({ store, work: () => ({ status: 'SUCCEEDED' }), worker: { lease } });
      await idle.worker?.start();
      await sleep(2_000); // past the start's own statements
      await admin.unsafe('SELECT pg_stat_force_next_flush()').catch(() => {});
      const before = await xacts();
      await sleep(IDLE_SECONDS * 1000);
      await sleep(1_100); // the server publishes its counters about once a second
      const after = await xacts();
      console.log(
        `idle pg-boss instance, lease ${lease / 1000} s, poll 1 s: ${((after - before) / IDLE_SECONDS).toFixed(1)} transactions/s (this count's own query included)`,
      );
      await idle.close();
    }
    await admin.end();
  }
  console.log(`(load ${loadavg()[0]?.toFixed(1) ?? '?'} after)`);
} finally {
  for (const drop of drops) await drop().catch(() => {});
  pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
