/**
 * @module test/bench/stores: the echo provider over HTTP on each store, and PostgreSQL with a
 * million stored actions.
 *
 *   npm run bench:stores                     (= npx tsx test/bench/stores.ts)
 *   npx tsx test/bench/stores.ts --duration 4 --warmup 1 --connections 10 --latency-duration 3 --rows 1000000 --rounds 2
 *   npx tsx test/bench/stores.ts --stores sqlite,pglite --rows 0     (some stores only; --rows 0 skips part 2)
 *   npx tsx test/bench/stores.ts --plans                             (also print every EXPLAIN ANALYZE in full)
 *
 * This process is only the load generator (autocannon) and the bulk loader. Each provider runs
 * in its own child process (test/bench/stores-server.ts, through `node --import tsx`), served by
 * adapters/node.ts with the dev JWT authenticator (the signing key is shared through a temporary
 * directory, so this process mints the tokens). The providers compared stay up together and only
 * one is under load at a time: after a warm-up of each scenario, `--rounds` rounds alternate
 * between them, so drift (other processes on the machine) hits all alike; req/s is the mean of
 * the rounds, latency percentiles are over every response of every round.
 *
 * 1. Throughput per store: POST /run (authenticated, a unique request_id per request, so every
 *    request creates an action) and GET /{id}/status of one action, on memory, embedded SQLite
 *    (better-sqlite3, WAL, synchronous FULL: the defaults; and the same on node:sqlite), PGlite (PostgreSQL in WASM, through
 *    test/bench/pglite-driver.ts; a reference point, not shipped) and a real PostgreSQL
 *    (test/support/postgres.ts). Each measurement: `--duration` s.
 * 2. PostgreSQL at scale: `--rows` actions bulk-loaded (INSERT ... SELECT generate_series, rows
 *    shaped exactly like the store's: the record of a real completed echo action with its ids,
 *    times and principals varied; and their principals rows), ANALYZE; then GET /{id}/status of
 *    random existing ids (through 1,000 callers, each the creator of its ids) and GET /actions
 *    for a caller owning 100 actions (by creator, and with all three roles); the same against a
 *    table of ~1,100 rows. Latency is taken per response (µs resolution) under load and again
 *    with one connection (`--latency-duration` s).
 *    Every statement the store issues is captured from the store itself and EXPLAIN ANALYZEd on
 *    both tables, as custom plans and as a prepared statement's sixth run (generic plan if chosen).
 * 3. Embedded engine start in a fresh process: module import, first open of a new database
 *    (create + migrate), reopen.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { ECHO_SCOPE } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import type { ActionRecord } from '../../src/index.ts';
import { type SqlDriver, type SqlStatement, sqlStore } from '../../src/store/sql.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import type { FromChild, StoreName, ToChild } from './stores-server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = join(ROOT, 'test/bench/stores-server.ts');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '10' },
    'latency-duration': { type: 'string', default: '3' },
    rows: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'memory,sqlite,node-sqlite,pglite,postgres' },
    rounds: { type: 'string', default: '2' },
    plans: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const LATENCY_DURATION = Number(args['latency-duration']);
const ROWS = Number(args.rows);
/** Measured rounds of every scenario (alternating between the stores, and between the two tables). */
const ROUNDS = Number(args.rounds);
/** Which stores part 1 measures (all by default; the ratios need memory). */
const STORES = new Set(args.stores.split(',').filter(Boolean));
/** Distinct creators in the bulk-loaded table; each owns ROWS / CREATORS actions. */
const CREATORS = Math.max(1, Math.floor(ROWS / 100));
/** Creators we hold tokens for (the status load picks among their actions). */
const CALLERS = Math.min(1000, CREATORS);
const SMALL_FIRST = 1000; // the small table: actions 0..999, plus every action of creator 0

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const load1 = () => loadavg()[0]?.toFixed(1) ?? '?';
const loadBefore = load1();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

// ---------------------------------------------------------------------------------------------
// Deterministic ids, the same here and in SQL (md5(text)::uuid)

const md5uuid = (text: string): string => {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const actionIdOf = (i: number) => md5uuid(`action-${i}`);
const creatorSubOf = (c: number) => md5uuid(`creator-${c}`);

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  port: number;
  openMs: number;
  base: string;
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

function nextMessage<T extends FromChild['type']>(
  child: ChildProcess,
  type: T,
  what: string,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolvePromise, reject) => {
    const onMessage = (message: FromChild) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolvePromise(message as Extract<FromChild, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const forkServer = (mode: 'serve' | 'open', env: Record<string, string>) =>
  fork(SERVER, [mode], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

async function startProvider(store: StoreName, env: Record<string, string>): Promise<Child> {
  const child = forkServer('serve', { BENCH_STORE: store, ...env });
  const ready = await nextMessage(child, 'ready', `${store} provider`);
  return {
    port: ready.port,
    openMs: ready.openMs,
    base: `http://127.0.0.1:${ready.port}`,
    async cpu() {
      const answer = nextMessage(child, 'cpu', `${store} provider`);
      child.send({ type: 'cpu' } satisfies ToChild);
      return (await answer).micros;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'exit' } satisfies ToChild);
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load

interface Sample {
  rps: number;
  /** Provider process CPU per request, µs (the database server's CPU is not in it). */
  cpu: number;
  p50: number;
  p99: number;
  requests: number;
  /** Every response's latency, ms, sorted. */
  latencies: Float64Array;
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Load `path` for `seconds`; latency of every response is kept (autocannon's histogram has 1 ms resolution). */
async function measure(
  server: Child,
  name: string,
  seconds: number,
  expect: number,
  options: Partial<autocannon.Options> & { path?: string },
  connections = CONNECTIONS,
): Promise<Sample> {
  const latencies: number[] = [];
  const { path = '/', ...rest } = options;
  const cpuBefore = await server.cpu();
  const result = await new Promise<autocannon.Result>((resolvePromise, reject) => {
    const instance = autocannon(
      { url: `${server.base}${path}`, connections, pipelining: 1, duration: seconds, ...rest },
      (error, done) => (error ? reject(error) : resolvePromise(done)),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
  const cpuAfter = await server.cpu();
  const codes = result.statusCodeStats ?? {};
  const unexpected = Object.entries(codes).filter(
    ([code, stats]) => Number(code) !== expect && (stats?.count ?? 0) > 0,
  );
  if (result.errors > 0 || result.timeouts > 0 || unexpected.length > 0) {
    throw new Error(
      `${name}: ${result.errors} errors, ${result.timeouts} timeouts, unexpected statuses ${JSON.stringify(Object.fromEntries(unexpected))}`,
    );
  }
  const sorted = Float64Array.from(latencies).sort();
  const requests = result.requests.total;
  return {
    rps: requests / (result.duration || seconds),
    cpu: (cpuAfter - cpuBefore) / requests,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    requests,
    latencies: sorted,
  };
}

/** Rounds of one scenario as one sample: mean req/s and CPU, latency percentiles over every response. */
function combine(samples: Sample[]): Sample {
  const all = new Float64Array(samples.reduce((n, s) => n + s.latencies.length, 0));
  let at = 0;
  for (const s of samples) {
    all.set(s.latencies, at);
    at += s.latencies.length;
  }
  all.sort();
  const mean = (f: (s: Sample) => number) => samples.reduce((sum, s) => sum + f(s), 0) / samples.length;
  return {
    rps: mean((s) => s.rps),
    cpu: mean((s) => s.cpu),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    requests: all.length,
    latencies: all,
  };
}

function report(name: string, sample: Sample, connections: number): void {
  log(
    `${name.padEnd(58)} ${fmt(sample.rps).padStart(6)} req/s  p50 ${ms(sample.p50).padStart(5)} ms  p99 ${ms(sample.p99).padStart(5)} ms  ` +
      `${sample.cpu.toFixed(0).padStart(5)} µs CPU/req (${connections} conn)`,
  );
}

async function call(url: string, init: RequestInit, expect: number): Promise<string> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Setup

const work = mkdtempSync(join(tmpdir(), 'gap-bench-stores-'));
const keyDir = join(work, 'key');
const dev = await devAuth({ dir: keyDir }); // writes the key the children read
const ownToken = await dev.mint({ scope: ECHO_SCOPE });
const ownAuth = { authorization: `Bearer ${ownToken}` };
let pg: PostgresServer | undefined;
let admin: ReturnType<typeof postgres> | undefined;
const children: Child[] = [];

async function withProvider<T>(
  store: StoreName,
  env: Record<string, string>,
  fn: (child: Child) => Promise<T>,
): Promise<T> {
  const child = await startProvider(store, { BENCH_KEY_DIR: keyDir, ...env });
  children.push(child);
  try {
    return await fn(child);
  } finally {
    await child.stop();
  }
}

let runCounter = 0;
const runBody = () => JSON.stringify({ request_id: `bench-${++runCounter}`, body: { input_string: 'hello' } });
const runOptions = () => ({
  path: '/run',
  requests: [
    {
      method: 'POST' as const,
      headers: { ...ownAuth, 'content-type': 'application/json' },
      setupRequest: (request: autocannon.Request) => ({ ...request, body: runBody() }),
    },
  ],
});

interface StoreResult {
  store: StoreName;
  label: string;
  openMs: number;
  run: Sample;
  status: Sample;
}
interface OpenResult {
  engine: string;
  importMs: number;
  firstOpenMs: number;
  reopenMs: number;
}
interface Loaded {
  prefix: string;
  env: Record<string, string>;
  rows: number;
  /** Status requests to pick from at random: an action, and a token of its creator. */
  targets: { path: string; authorization: string }[];
}
interface ScaleResult {
  rows: number;
  status: Sample;
  status1: Sample;
  enumerate: Sample;
  enumerate1: Sample;
  enumerateRoles: Sample;
  enumerateCount: number;
}

const storeResults: StoreResult[] = [];
const openResults: OpenResult[] = [];
const scale: ScaleResult[] = [];
let loadSeconds = 0;
let recordKindSeen = '?';
let pgVersion = '?';
const planNotes: string[] = [];
/** Thrown to roll a transaction back. */
class RollBack extends Error {}

try {
  // -------------------------------------------------------------------------------------------
  // 3 (first, on a quiet machine). Embedded engine start in a fresh process.
  for (const engine of ['sqlite', 'pglite'] as const) {
    const dir = join(work, `open-${engine}`);
    mkdirSync(dir);
    const child = forkServer('open', { BENCH_ENGINE: engine, BENCH_DATA_DIR: dir });
    const opened = await nextMessage(child, 'opened', `${engine} open`);
    await once(child, 'exit');
    openResults.push({ engine, importMs: opened.importMs, firstOpenMs: opened.firstOpenMs, reopenMs: opened.reopenMs });
    log(
      `open ${engine}: import ${ms(opened.importMs)} ms, first open (create + migrate) ${ms(opened.firstOpenMs)} ms, reopen ${ms(opened.reopenMs)} ms`,
    );
  }

  log('starting PostgreSQL');
  pg = await startPostgres();
  const url = pg.url;
  admin = postgres(url, { max: 2, onnotice: () => {} });
  pgVersion = String((await admin.unsafe('SHOW server_version'))[0]?.['server_version'] ?? '?');

  // -------------------------------------------------------------------------------------------
  // 1. Throughput per store.
  const stores: { store: StoreName; label: string; env: Record<string, string> }[] = [
    { store: 'memory', label: 'memory', env: {} },
    { store: 'sqlite', label: 'SQLite (better-sqlite3, file, WAL, synchronous=FULL)', env: {} },
    { store: 'node-sqlite', label: 'SQLite (node:sqlite, file, WAL, synchronous=FULL)', env: {} },
    { store: 'pglite', label: 'PGlite (WASM PostgreSQL, file)', env: {} },
    {
      store: 'postgres',
      label: `PostgreSQL ${pgVersion} (local server, pool of 10)`,
      env: { BENCH_DATABASE_URL: url, BENCH_TABLE_PREFIX: 'tput_' },
    },
  ];
  // One provider process per store, all up at once (started one after the other, so each open
  // time is its own); the scenarios alternate between them round by round.
  const running: {
    store: StoreName;
    label: string;
    child: Child;
    statusPath: string;
    samples: Map<string, Sample[]>;
  }[] = [];
  for (const { store, label, env } of stores.filter((s) => STORES.has(s.store))) {
    const dataDir = join(work, `data-${store}`);
    mkdirSync(dataDir);
    const child = await startProvider(store, { BENCH_KEY_DIR: keyDir, BENCH_DATA_DIR: dataDir, ...env });
    children.push(child);
    log(`${store}: provider up, store opened in ${ms(child.openMs)} ms`);
    const probe = await call(
      `${child.base}/run`,
      { method: 'POST', headers: { ...ownAuth, 'content-type': 'application/json' }, body: runBody() },
      202,
    );
    const actionId = (JSON.parse(probe) as { action_id: string }).action_id;
    const statusPath = `/${actionId}/status`;
    await call(`${child.base}${statusPath}`, { headers: ownAuth }, 200);
    running.push({ store, label, child, statusPath, samples: new Map() });
  }
  const storeKinds = [
    { key: 'run', name: 'POST /run', expect: 202, options: () => runOptions },
    {
      key: 'status',
      name: 'GET /{id}/status',
      expect: 200,
      options: (path: string) => () => ({ path, headers: ownAuth }),
    },
  ] as const;
  if (WARMUP > 0) {
    for (const kind of storeKinds) {
      for (const r of running)
        await measure(r.child, `${r.store}: ${kind.name} (warm-up)`, WARMUP, kind.expect, kind.options(r.statusPath)());
    }
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kind of storeKinds) {
      for (const r of running) {
        const sample = await measure(
          r.child,
          `${r.store}: ${kind.name}`,
          DURATION,
          kind.expect,
          kind.options(r.statusPath)(),
        );
        r.samples.set(kind.key, [...(r.samples.get(kind.key) ?? []), sample]);
        report(`round ${round}/${ROUNDS} ${r.store}: ${kind.name}`, sample, CONNECTIONS);
      }
    }
  }
  for (const r of running) {
    storeResults.push({
      store: r.store,
      label: r.label,
      openMs: r.child.openMs,
      run: combine(r.samples.get('run') ?? []),
      status: combine(r.samples.get('status') ?? []),
    });
    await r.child.stop();
  }

  // -------------------------------------------------------------------------------------------
  // 2. PostgreSQL at scale.
  const tokens: string[] = [];
  for (let c = 0; c < CALLERS; c++)
    tokens.push(`Bearer ${await dev.mint({ identity: creatorSubOf(c), scope: ECHO_SCOPE })}`);

  /** A real completed echo action, as the store wrote it: the template of every loaded row. */
  let template: ActionRecord | undefined;
  /** `object`, or `string` if the store wrote the record JSON-encoded twice (loaded rows then do the same). */
  let recordKind = 'object';
  const loaded: Loaded[] = [];
  for (const [prefix, filter] of ROWS > 0
    ? ([
        ['big_', 'TRUE'],
        ['small_', `i < ${SMALL_FIRST} OR i % ${CREATORS} = 0`],
      ] as const)
    : []) {
    const env = { BENCH_DATABASE_URL: url, BENCH_TABLE_PREFIX: prefix };
    // A provider process creates (migrates) the tables, and the template action.
    await withProvider('postgres', env, async (child) => {
      if (template !== undefined) return;
      const made = await call(
        `${child.base}/run`,
        {
          method: 'POST',
          headers: { ...ownAuth, 'content-type': 'application/json' },
          body: JSON.stringify({ request_id: 'template', body: { input_string: 'hello' } }),
        },
        202,
      );
      const id = (JSON.parse(made) as { action_id: string }).action_id;
      const row = (
        await admin!.unsafe(`SELECT record, jsonb_typeof(record) AS kind FROM ${prefix}actions WHERE action_id = $1`, [
          id,
        ])
      )[0];
      const value = row?.['record'];
      template = (typeof value === 'string' ? JSON.parse(value) : value) as ActionRecord;
      recordKind = String(row?.['kind']);
      recordKindSeen = recordKind;
      log(`template action stored by the store: record is a JSONB ${recordKind}`);
      if (template?.status !== 'SUCCEEDED' || template.expires_at === null || template.completion_time === null) {
        throw new Error(`template: unexpected record ${JSON.stringify(template)}`);
      }
    });
    const t = template as ActionRecord;
    await admin.unsafe(`TRUNCATE ${prefix}actions, ${prefix}principals`);

    const loadStarted = performance.now();
    const releaseMs = (t.expires_at as number) - Date.parse(t.completion_time as string);
    const base = Date.now() - ROWS * 1000 - 60_000; // start times one second apart, all in the past
    const time = (expr: string) =>
      `to_char(to_timestamp((${expr}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')`;
    await admin.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL maintenance_work_mem = '512MB'`);
      // Indexes are built once after the load (sorted) rather than row by row (random B-tree
      // inserts): the same definitions, recreated and checked identical below.
      const tables = `('${prefix}actions'::regclass, '${prefix}principals'::regclass)`;
      const indexDefs = async () =>
        (
          await tx.unsafe(
            `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('${prefix}actions', '${prefix}principals') ORDER BY indexname`,
          )
        )
          .map((r) => `${String(r['indexname'])}: ${String(r['indexdef'])}`)
          .join('\n');
      const before = await indexDefs();
      const constraints = await tx.unsafe(
        `SELECT conname, conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid IN ${tables} AND contype IN ('p', 'u')`,
      );
      const indexes = await tx.unsafe(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('${prefix}actions', '${prefix}principals') AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid IN ${tables})`,
      );
      for (const i of indexes) await tx.unsafe(`DROP INDEX ${String(i['indexname'])}`);
      for (const c of constraints)
        await tx.unsafe(`ALTER TABLE ${String(c['tbl'])} DROP CONSTRAINT ${String(c['conname'])}`);
      const inserted = await tx.unsafe(
        `INSERT INTO ${prefix}actions (action_id, creator_id, request_id, status, start_time, expires_at, version, record)
         SELECT id, creator, req, $2, st, exp, $3::int,
           ${recordKind === 'string' ? 'to_jsonb((' : '('}$1::text::jsonb || jsonb_build_object(
             'action_id', id, 'creator_id', creator, 'request_id', req,
             'request', ($1::text::jsonb -> 'request') || jsonb_build_object('request_id', req),
             'monitor_by', jsonb_build_array(creator), 'manage_by', jsonb_build_array(creator),
             'start_time', st, 'completion_time', ct, 'expires_at', exp))${recordKind === 'string' ? '::text)' : ''}
         FROM (
           SELECT md5('action-' || i)::uuid::text AS id,
                  'urn:globus:auth:identity:' || md5('creator-' || (i % $4::int))::uuid AS creator,
                  'bulk-' || i AS req,
                  ${time('$5::bigint + i * 1000')} AS st,
                  ${time('$5::bigint + i * 1000 + 5')} AS ct,
                  $5::bigint + i * 1000 + 5 + $6::bigint AS exp
           FROM generate_series(0, $7::int - 1) AS i
           WHERE ${filter}
         ) s`,
        [JSON.stringify(t), t.status, t.version, CREATORS, base, releaseMs, ROWS],
      );
      // monitor_by and manage_by are [creator], as the store writes them for a run without them.
      // With the status and start time the rows carry since schema version 3 (the creator's row
      // came with each action, from the store's trigger).
      await tx.unsafe(
        `INSERT INTO ${prefix}principals (principal, role, action_id, status, start_time)
         SELECT a.creator_id, r.role, a.action_id, a.status, a.start_time FROM ${prefix}actions a CROSS JOIN (VALUES ('monitor'), ('manage')) AS r(role)`,
      );
      log(
        `${prefix}: loaded ${fmt(inserted.count)} actions (+ ${fmt(inserted.count * 3)} principals rows); building the indexes`,
      );
      for (const c of constraints)
        await tx.unsafe(`ALTER TABLE ${String(c['tbl'])} ADD CONSTRAINT ${String(c['conname'])} ${String(c['def'])}`);
      for (const i of indexes) await tx.unsafe(String(i['indexdef']));
      const after = await indexDefs();
      if (after !== before) throw new Error(`indexes differ after the load:\n${before}\n---\n${after}`);
    });
    await admin.unsafe(`ANALYZE ${prefix}actions`);
    await admin.unsafe(`ANALYZE ${prefix}principals`);
    const rows = Number((await admin.unsafe(`SELECT count(*)::int AS n FROM ${prefix}actions`))[0]?.['n']);
    if (prefix === 'big_') {
      loadSeconds = (performance.now() - loadStarted) / 1000;
      const size = (
        await admin.unsafe(
          `SELECT pg_size_pretty(pg_total_relation_size('big_actions')) AS a, pg_size_pretty(pg_total_relation_size('big_principals')) AS p`,
        )
      )[0];
      log(
        `big_: load + ANALYZE took ${loadSeconds.toFixed(1)} s; big_actions ${String(size?.['a'])}, big_principals ${String(size?.['p'])} (with indexes)`,
      );
    }
    await explainStore(url, prefix, rows);

    // Status targets: actions whose creator we hold a token for, picked at random.
    const targets: { path: string; authorization: string }[] = [];
    for (let i = 0; i < ROWS; i++) {
      const c = i % CREATORS;
      if (c >= CALLERS) continue;
      if (prefix === 'small_' && !(i < SMALL_FIRST || c === 0)) continue;
      targets.push({ path: `/${actionIdOf(i)}/status`, authorization: tokens[c] as string });
    }
    loaded.push({ prefix, env, rows, targets });
  }

  if (loaded.length > 0) {
    // Both tables served at once, one provider process each; the scenarios alternate between
    // them round by round, so drift (other processes on the machine) hits both alike.
    const servers = await Promise.all(
      loaded.map((t) => startProvider('postgres', { BENCH_KEY_DIR: keyDir, ...t.env })),
    );
    children.push(...servers);
    const owner = { authorization: tokens[0] as string };
    const enumPath = '/actions?status=SUCCEEDED';
    const rolesPath = '/actions?status=SUCCEEDED&roles=creator_id,monitor_by,manage_by';
    const counts: number[] = [];
    for (const child of servers) {
      // Every caller's token verified once, so the load measures the store, not ES256.
      for (let c = 0; c < CALLERS; c += 50) {
        await Promise.all(
          tokens
            .slice(c, c + 50)
            .map((authorization, k) =>
              fetch(`${child.base}/${actionIdOf(c + k)}/status`, { headers: { authorization } }).then((r) =>
                r.arrayBuffer(),
              ),
            ),
        );
      }
      const listed = JSON.parse(await call(`${child.base}${enumPath}`, { headers: owner }, 200)) as unknown[];
      const all = JSON.parse(await call(`${child.base}${rolesPath}`, { headers: owner }, 200)) as unknown[];
      if (listed.length !== all.length)
        throw new Error(`enumerate: ${listed.length} actions by creator, ${all.length} by all roles`);
      counts.push(listed.length);
    }
    const statusOptions = (targets: { path: string; authorization: string }[]) => () => ({
      path: (targets[0] as { path: string }).path,
      requests: [
        {
          method: 'GET' as const,
          setupRequest: (request: autocannon.Request) => {
            const target = targets[Math.floor(Math.random() * targets.length)] as {
              path: string;
              authorization: string;
            };
            return {
              ...request,
              path: target.path,
              headers: { ...request.headers, authorization: target.authorization },
            };
          },
        },
      ],
    });
    const kinds: {
      key: keyof Omit<ScaleResult, 'rows' | 'enumerateCount'>;
      name: string;
      connections: number;
      seconds: number;
      options: (t: Loaded) => () => Partial<autocannon.Options> & { path?: string };
    }[] = [
      {
        key: 'status',
        name: 'GET /{id}/status random',
        connections: CONNECTIONS,
        seconds: DURATION,
        options: (t) => statusOptions(t.targets),
      },
      {
        key: 'status1',
        name: 'GET /{id}/status random',
        connections: 1,
        seconds: LATENCY_DURATION,
        options: (t) => statusOptions(t.targets),
      },
      {
        key: 'enumerate',
        name: `GET ${enumPath}`,
        connections: CONNECTIONS,
        seconds: DURATION,
        options: () => () => ({ path: enumPath, headers: owner }),
      },
      {
        key: 'enumerate1',
        name: `GET ${enumPath}`,
        connections: 1,
        seconds: LATENCY_DURATION,
        options: () => () => ({ path: enumPath, headers: owner }),
      },
      {
        key: 'enumerateRoles',
        name: `GET ${rolesPath}`,
        connections: 1,
        seconds: LATENCY_DURATION,
        options: () => () => ({ path: rolesPath, headers: owner }),
      },
    ];
    const tag = (t: Loaded) => `PG ${fmt(t.rows)} rows:`;
    log(
      `${loaded.map((t) => `${tag(t)} ${fmt(t.targets.length)} status targets`).join('; ')} (over ${CALLERS} callers); enumerate by creator 0 lists ${counts.join(' / ')} actions`,
    );
    if (WARMUP > 0) {
      for (const kind of kinds) {
        for (const [n, t] of loaded.entries())
          await measure(
            servers[n] as Child,
            `${tag(t)} ${kind.name} (warm-up)`,
            WARMUP,
            200,
            kind.options(t)(),
            kind.connections,
          );
      }
    }
    const samples = loaded.map(() => new Map<string, Sample[]>());
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of kinds) {
        for (const [n, t] of loaded.entries()) {
          const sample = await measure(
            servers[n] as Child,
            `${tag(t)} ${kind.name}`,
            kind.seconds,
            200,
            kind.options(t)(),
            kind.connections,
          );
          const list = samples[n]?.get(kind.key) ?? [];
          list.push(sample);
          samples[n]?.set(kind.key, list);
          report(`round ${round}/${ROUNDS} ${tag(t)} ${kind.name}`, sample, kind.connections);
        }
      }
    }
    for (const [n, t] of loaded.entries()) {
      const get = (key: string) => combine(samples[n]?.get(key) ?? []);
      scale.push({
        rows: t.rows,
        status: get('status'),
        status1: get('status1'),
        enumerate: get('enumerate'),
        enumerate1: get('enumerate1'),
        enumerateRoles: get('enumerateRoles'),
        enumerateCount: counts[n] ?? 0,
      });
    }
  }
} finally {
  for (const child of children) await child.stop().catch(() => {});
  await admin?.end({ timeout: 5 }).catch(() => {});
  try {
    pg?.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN of every statement the store issues, captured from the store itself, on the big table.

async function explainStore(url: string, prefix: string, rows: number): Promise<void> {
  const captured: { what: string; statement: SqlStatement }[] = [];
  let what = '';
  const recorder: SqlDriver = {
    dialect: 'postgres',
    async execute(statement) {
      captured.push({ what, statement });
      return { changes: 0, rows: [] };
    },
    async batch(statements) {
      for (const statement of statements) captured.push({ what, statement });
      return statements.map(() => ({ changes: 0, rows: [] }));
    },
  };
  const store = sqlStore(recorder, { tablePrefix: prefix });
  const creator = `urn:globus:auth:identity:${creatorSubOf(0)}`;
  const existing = actionIdOf(CREATORS * 3); // creator 0's
  const now = Date.now();
  const value = (await admin!.unsafe(`SELECT record FROM ${prefix}actions WHERE action_id = $1`, [existing]))[0]?.[
    'record'
  ];
  const record = (typeof value === 'string' ? JSON.parse(value) : value) as ActionRecord;
  const fresh: ActionRecord = { ...record, action_id: crypto.randomUUID(), request_id: 'explain', version: 1 };
  const steps: [string, () => Promise<unknown>][] = [
    ['get', () => store.get(existing)],
    ['create', () => store.create(fresh)],
    ['update', () => store.update({ ...record, version: record.version + 1 })],
    ['delete', () => store.delete(existing)],
    ['list (creator)', () => store.list({ statuses: ['SUCCEEDED'], creator_id: [creator], limit: 1000, now })],
    [
      'list (creator, default ACTIVE)',
      () => store.list({ statuses: ['ACTIVE'], creator_id: [creator], limit: 1000, now }),
    ],
    [
      'list (all roles)',
      () =>
        store.list({
          statuses: ['SUCCEEDED'],
          creator_id: [creator],
          monitor_by: [creator],
          manage_by: [creator],
          limit: 1000,
          now,
        }),
    ],
    ['deleteExpired', () => store.deleteExpired(now)],
  ];
  for (const [name, step] of steps) {
    what = name;
    await step().catch(() => {}); // the recorder answers nothing, so create throws after its batch: only the SQL matters
  }
  // One connection, a transaction rolled back: EXPLAIN ANALYZE of the writes changes nothing.
  const client = postgres(url, { max: 1, onnotice: () => {} });
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  const literal = (v: unknown) =>
    v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
  const seqScans: string[] = [];
  let slowest = { ms: 0, what: '' };
  try {
    // custom: planned for the parameter values, as a statement's first five runs are. prepared:
    // the sixth run of a prepared statement (postgres.js prepares them), when PostgreSQL (plan_cache_mode
    // auto) switches to its cached generic plan if that is estimated no costlier than the custom ones.
    for (const mode of ['custom', 'prepared'] as const) {
      await client
        .begin(async (tx) => {
          for (const { what: name, statement } of captured) {
            if (statement.params.some((p) => p === undefined))
              throw new Error(`${name}: undefined parameter in ${statement.sql}`);
            let rows: Record<string, unknown>[];
            if (mode === 'custom') {
              rows = await tx.unsafe(
                `EXPLAIN (ANALYZE, BUFFERS) ${numbered(statement.sql)}`,
                statement.params as never[],
              );
            } else {
              await tx.unsafe(`PREPARE bench_explain AS ${numbered(statement.sql)}`);
              const execute = `EXECUTE bench_explain${statement.params.length === 0 ? '' : `(${statement.params.map(literal).join(', ')})`}`;
              for (let run = 0; run < 5; run++) await tx.unsafe(execute);
              rows = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`);
              await tx.unsafe('DEALLOCATE bench_explain');
            }
            const plan = rows.map((row) => String(row['QUERY PLAN'])).join('\n');
            const time = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
            const nodes = [
              ...new Set(
                [
                  ...plan.matchAll(
                    /(Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan) (?:using (\S+) )?on (\S+)/g,
                  ),
                ].map((m) => `${m[1]}${m[2] ? ` ${m[2]}` : ''} on ${m[3]}`),
              ),
            ];
            const sql = statement.sql.replace(/\s+/g, ' ');
            log(
              `EXPLAIN ${prefix} [${mode}] ${name}: ${time} ms: ${nodes.join('; ') || 'no scan'}  ← ${sql.slice(0, 90)}`,
            );
            if (args.plans) console.log(plan);
            if (time > slowest.ms) slowest = { ms: time, what: `${name} [${mode}]` };
            if (nodes.some((n) => n.startsWith('Seq Scan'))) seqScans.push(`${name} [${mode}]: ${sql.slice(0, 120)}`);
          }
          throw new RollBack();
        })
        .catch((error: unknown) => {
          if (!(error instanceof RollBack)) throw error;
        });
    }
  } finally {
    await client.end({ timeout: 5 });
  }
  const scans = rows < 100_000 ? [] : seqScans; // a small table is rightly scanned whole
  planNotes.push(
    (scans.length === 0
      ? `EXPLAIN ANALYZE of every statement the store issues (get, create, update, delete, list ×3, deleteExpired) on ${fmt(rows)} rows, custom plans and prepared statements' sixth run: ${rows < 100_000 ? '' : 'no sequential scan, '}`
      : `Sequential scans on ${fmt(rows)} rows: ${scans.join(' | ')}; `) +
      `slowest ${slowest.ms} ms (${slowest.what}).`,
  );
}

// ---------------------------------------------------------------------------------------------
// Report

const command = `npx tsx test/bench/stores.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const memory = storeResults.find((r) => r.store === 'memory');
const ratio = (value: number, of: number | undefined) => (of === undefined ? '–' : (value / of).toFixed(2));
const open = (engine: string) => openResults.find((o) => o.engine === engine) as OpenResult;
const lat = (s: Sample) => `${ms(s.p50)} / ${ms(s.p99)}`;
const lines = [
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; PostgreSQL ${pgVersion}; load average ${loadBefore} before, ${load1()} after`,
  `Command: \`${command}\` (${CONNECTIONS} connections unless noted; ${WARMUP} s warm-up per scenario, then ${ROUNDS} rounds alternating between the stores (and between the two tables) of ${DURATION} s each (${LATENCY_DURATION} s at 1 connection); req/s the mean of the rounds, latency percentiles over all their responses; providers in child processes, autocannon in the parent, PostgreSQL on the same ${cpus().length} cores)`,
  '',
  '| Store | POST /run (req/s) | vs memory | GET /{id}/status (req/s) | vs memory | run p50 / p99 (ms) | status p50 / p99 (ms) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...storeResults.map(
    (r) =>
      `| ${r.label} | ${fmt(r.run.rps)} | ${ratio(r.run.rps, memory?.run.rps)} | ${fmt(r.status.rps)} | ${ratio(r.status.rps, memory?.status.rps)} | ` +
      `${lat(r.run)} | ${lat(r.status)} |`,
  ),
  '',
  '| Embedded engine, fresh process | import (ms) | first open: create + migrate (ms) | reopen (ms) |',
  '| --- | ---: | ---: | ---: |',
  ...(['sqlite', 'pglite'] as const).map((e) => {
    const o = open(e);
    return `| ${e === 'sqlite' ? 'SQLite (better-sqlite3)' : 'PGlite'} | ${ms(o.importMs)} | ${ms(o.firstOpenMs)} | ${ms(o.reopenMs)} |`;
  }),
  '',
  `| PostgreSQL ${pgVersion}, actions stored | status, random ids: req/s | p50 / p99 (ms) | 1 connection: p50 / p99 (ms) | enumerate, caller owns 100: req/s | p50 / p99 (ms) | 1 connection: p50 / p99 (ms) | enumerate, all 3 roles, 1 connection: p50 / p99 (ms) |`,
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...scale.map(
    (s) =>
      `| ${fmt(s.rows)} | ${fmt(s.status.rps)} | ${lat(s.status)} | ${lat(s.status1)} | ${fmt(s.enumerate.rps)} | ${lat(s.enumerate)} | ${lat(s.enumerate1)} | ${lat(s.enumerateRoles)} |`,
  ),
  '',
  `POST /run: a unique request_id per request (${fmt(runCounter)} actions created). Status (per store): one action. ` +
    `At scale: random ids among ${fmt(Math.round((ROWS / CREATORS) * CALLERS))} actions of ${CALLERS} callers (each action read by its creator), spread over the whole table; ` +
    `enumerate: GET /actions?status=SUCCEEDED by a caller who created ${scale.map((x) => x.enumerateCount).join(' / ')} of the actions (all listed, one page); with roles=creator_id,monitor_by,manage_by the same actions match through all three roles.`,
  `Loading ${fmt(ROWS)} actions (INSERT ... SELECT generate_series shaped like a real completed echo action's row, record as a JSONB ${recordKindSeen}, plus ${fmt(ROWS * 3)} principals rows; indexes rebuilt) and ANALYZE took ${loadSeconds.toFixed(0)} s.`,
  ...planNotes,
  `Total time: ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
console.log(lines.join('\n'));
