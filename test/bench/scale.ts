/**
 * @module test/bench/scale: the echo provider on each store as the store grows from 10,000 to
 * 1,000,000 actions: status throughput and p99, the server's memory, enumerate's time per page.
 *
 *   npm run bench:scale                  (= npx tsx test/bench/scale.ts; needs `wrk`: apt-get install -y wrk)
 *   npx tsx test/bench/scale.ts --stores memory,sqlite,postgres --sizes 10000,100000,1000000 --connections 32 --duration 5 --warmup 1 --rounds 2
 *   npx tsx test/bench/scale.ts --creators 10      (each creator owns size / 10: a caller with 100,000 actions at 1M)
 *
 * This process is the load generator (wrk), the bulk loader and the report. Each store's
 * provider runs in a child process of its own (test/bench/scale-server.ts, bundled by esbuild
 * as core.ts's servers are, run with --expose-gc), so its RSS is the server's alone: the echo
 * provider served by adapters/node.ts, dev JWT auth (this process mints the tokens from the key
 * it shares), silent logger, no sweeper. Stores: memoryStore(); openSqliteStore() on a file in
 * a temporary directory (better-sqlite3, writer thread, reads on the serving thread: the way
 * users open it); postgresStore() on a real PostgreSQL started for the run
 * (test/support/postgres.ts). A bare Hono route (`GET /:id/status` answering the same JSON
 * body, @hono/node-server) runs in its own child as the baseline. Only one child is under load
 * at a time.
 *
 * Each size has a store of its own (a child process each: memory; a SQLite file; a PostgreSQL
 * database), seeded from empty, and all of one kind stay up together, so the status rounds can
 * alternate between the sizes (see "At each size"). The actions are copies of one real action:
 * the stored record of a `POST /run` of the echo provider on that store (read back through the
 * store, then deleted),
 * with the id (a UUID, scattered over the key space), request_id, creator (`--creators`, 100:
 * each owns size / 100), start and completion time (increasing, all in the past), expires_at
 * (the template's release_after later: all in the future, so nothing expires) and the echoed
 * string varied (test/bench/scale-records.ts, the same functions in JavaScript and SQL).
 * - memory: the child calls store.create() with each record parsed from its own JSON text
 *   (then its creator URN made one string in creator_id, monitor_by and manage_by, as a run's
 *   record holds it; across actions no string is shared);
 * - SQLite: one transaction per step from this process, on its own connection to the file:
 *   INSERT ... SELECT over a recursive CTE, each record json_replace() of the template text, in
 *   the store's tables as it writes them (the creator's principals row comes from the store's
 *   trigger; the monitor and manage rows the store would write are inserted with them); then
 *   ANALYZE and a WAL checkpoint (the loader's WAL would otherwise be what reads go through);
 * - PostgreSQL: as stores.ts part 2 loads it: one transaction per step, indexes dropped and
 *   rebuilt (checked identical), INSERT ... SELECT generate_series with JSONB records built from
 *   the template, the principals rows likewise; then VACUUM ANALYZE (ANALYZE, and the visibility
 *   map autovacuum would otherwise set during the measurement, competing for the cores).
 * Sample actions of every step are checked against the JavaScript records (SQLite: the same
 * text; PostgreSQL: the same JSONB; both: the three principals rows) and read over HTTP.
 *
 * At each size:
 * - status: `GET /{id}/status` of random existing actions, each with its creator's token (a
 *   file of `--targets` random (path, token) pairs over the whole table, one picked at random
 *   per request by wrk's Lua), `--connections` connections, one wrk thread (one core for the
 *   load, one for the server); `--warmup` s of each, then `--rounds` rounds, each measuring
 *   every size for `--duration` s right after the bare Hono route with the same requests (the
 *   sizes' order turning each round), so the machine's drift hits every size alike. req/s
 *   and p99 (wrk --latency) are the means of the rounds; with them the provider process's CPU
 *   time per request and the share of the time it spent in GC.
 * - memory: the child's RSS and heapUsed after two forced collections, measured after the
 *   load; per action, (at size - empty) / size, "empty" measured after a first request and 2 s
 *   of status load on the template action, before it is deleted (so warm-up costs are in both).
 * - enumerate: creator 0 walks all their actions (`GET /actions?status=SUCCEEDED&limit=`
 *   `--limit`, following X-Next-Marker), one connection; ms per page for the first, middle and
 *   last page (median of `--repeat` requests of that page, marker in hand) and the whole walk.
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { ECHO_SCOPE } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import { freshDatabase, type PostgresServer, startPostgres } from '../support/postgres.ts';
import { ROOT } from '../support/processes.ts';
import { bundledServer } from './bundle.ts';
import {
  actionIdOf,
  actionIdSql,
  creatorIdOf,
  MAX_ACTIONS,
  recordMaker,
  requestIdSql,
  type SeedPlan,
  saidOf,
  saidSql,
  startMsOf,
  timeSql,
  timeText,
} from './scale-records.ts';
import type { FromChild, StoreName, ToChild } from './scale-server.ts';

const { values: args } = parseArgs({
  options: {
    stores: { type: 'string', default: 'memory,sqlite,postgres' },
    sizes: { type: 'string', default: '10000,100000,1000000' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    creators: { type: 'string', default: '100' },
    targets: { type: 'string', default: '50000' },
    limit: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '5' },
  },
});
const STORES = args.stores.split(',').filter(Boolean) as StoreName[];
const SIZES = args.sizes.split(',').filter(Boolean).map(Number);
const CONNECTIONS = Number(args.connections);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CREATORS = Number(args.creators);
const TARGETS = Number(args.targets);
const LIMIT = Number(args.limit);
const REPEAT = Number(args.repeat);
for (const store of STORES) {
  if (!['memory', 'sqlite', 'postgres'].includes(store))
    throw new Error(`--stores: memory, sqlite, postgres (got ${store})`);
}
if (SIZES.length === 0 || SIZES.some((s, k) => !Number.isSafeInteger(s) || s < 1 || s <= (SIZES[k - 1] ?? 0)))
  throw new Error('--sizes: whole numbers, ascending');
if ((SIZES.at(-1) as number) > MAX_ACTIONS) throw new Error(`--sizes: at most ${MAX_ACTIONS}`);
if (!Number.isSafeInteger(CREATORS) || CREATORS < 1) throw new Error('--creators: a whole number from 1');

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const load1 = () => loadavg()[0]?.toFixed(2) ?? '?';
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  name: string;
  base: string;
  request<T extends FromChild['type']>(message: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>>;
  stop(): Promise<void>;
}

const SERVER_JS = await bundledServer('test/bench/scale-server.ts');
/** Every child started, so a failure or Ctrl-C still ends them. */
const processes = new Set<ChildProcess>();

async function startChild(name: string, mode: 'hono' | 'provider', env: Record<string, string>): Promise<Child> {
  const child = fork(SERVER_JS, [mode], {
    cwd: ROOT,
    execArgv: ['--expose-gc'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  processes.add(child);
  child.once('exit', () => processes.delete(child));
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolvePromise, reject) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolvePromise(message as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    name,
    base: `http://127.0.0.1:${ready.port}`,
    request(message, reply) {
      const answer = next(reply);
      child.send(message);
      return answer;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'exit' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load (wrk)

/** wrk's Lua: the requests of a file of `path<TAB>authorization` lines, one picked at random per request. */
const LUA = `
local requests = {}
function init(args)
  for line in io.lines(args[1]) do
    local path, auth = line:match("^([^\\t]+)\\t(.+)$")
    requests[#requests + 1] = wrk.format("GET", path, { ["Authorization"] = auth })
  end
  math.randomseed(os.time())
end
function request()
  return requests[math.random(#requests)]
end
`;

interface Sample {
  rps: number;
  p99: number;
  /** The server process's CPU time per request, µs (the store's share on memory and SQLite; PostgreSQL's own is not in it). */
  cpu: number;
  /** Share of the round's wall time the server spent in garbage collection. */
  gc: number;
  requests: number;
  /** Socket errors and timeouts wrk counted (connect, read, write, timeout). */
  errors: number;
}

const toMs = (value: string, unit: string) =>
  Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;

async function wrk(base: string, seconds: number, targets: string): Promise<Sample> {
  const { stdout } = await run(
    'wrk',
    [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--latency',
      '--timeout',
      '10s',
      '-s',
      luaFile,
      `${base}/`,
      '--',
      targets,
    ],
    { maxBuffer: 1 << 20 },
  );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} failed responses from ${base}\n${stdout}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  if (!Number.isFinite(rps) || p99 === null) throw new Error(`wrk: unexpected output\n${stdout}`);
  const errors = socket === null ? 0 : socket.slice(1).reduce((n, x) => n + Number(x), 0);
  return { rps, p99: toMs(p99[1] as string, p99[2] as string), requests, errors, cpu: NaN, gc: NaN };
}

// ---------------------------------------------------------------------------------------------
// Requests

async function call(url: string, init: RequestInit, expect: number): Promise<string> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return text;
}

interface Enumerated {
  first: number;
  middle: number;
  last: number;
  pages: number;
  walkMs: number;
  listed: number;
}

/** Creator 0's whole listing, a page at a time, then the first, middle and last page again. */
async function enumerate(base: string, authorization: string, expected: number): Promise<Enumerated> {
  const page = async (marker: string | undefined) => {
    const query = new URLSearchParams({ status: 'SUCCEEDED', limit: String(LIMIT), ...(marker ? { marker } : {}) });
    const t = performance.now();
    const response = await fetch(`${base}/actions?${query}`, { headers: { authorization } });
    const text = await response.text();
    const elapsed = performance.now() - t;
    if (response.status !== 200) throw new Error(`GET /actions: ${response.status} ${text.slice(0, 300)}`);
    return { ms: elapsed, count: (JSON.parse(text) as unknown[]).length, next: response.headers.get('x-next-marker') };
  };
  const markers: (string | undefined)[] = [undefined];
  let listed = 0;
  const walkStarted = performance.now();
  for (;;) {
    const got = await page(markers.at(-1));
    listed += got.count;
    if (got.next === null) break;
    markers.push(got.next);
  }
  const walkMs = performance.now() - walkStarted;
  if (listed !== expected) throw new Error(`enumerate: listed ${listed} actions, creator 0 has ${expected}`);
  const at = async (k: number) => {
    const times: number[] = [];
    for (let r = 0; r < REPEAT; r++) times.push((await page(markers[k])).ms);
    return median(times);
  };
  return {
    first: await at(0),
    middle: await at(Math.floor(markers.length / 2)),
    last: await at(markers.length - 1),
    pages: markers.length,
    walkMs,
    listed,
  };
}

// ---------------------------------------------------------------------------------------------
// Bulk loaders (SQL stores): the store's tables, rows as the store writes them

/** Where a load's time went: `mark(name)` ends the phase `name`. */
function phases(): { mark(name: string): void; text(): string } {
  const done: string[] = [];
  let last = performance.now();
  return {
    mark(name) {
      const now = performance.now();
      done.push(`${name} ${((now - last) / 1000).toFixed(1)} s`);
      last = now;
    },
    text: () => done.join(', '),
  };
}

/** The template's values the SQL columns take (status, version), checked to be a completed echo. */
function templateColumns(plan: SeedPlan): { status: string; version: number } {
  const t = JSON.parse(plan.template) as { status: string; version: number };
  return { status: t.status, version: t.version };
}

function seedSqlite(file: string, plan: SeedPlan, from: number, to: number): string {
  const time = phases();
  const db = new Database(file);
  try {
    // The loader's connection only (the store's own are untouched): a page cache large enough
    // that the load does not thrash, and the creators in a temporary table of this connection.
    db.pragma('cache_size = -1048576');
    db.exec('CREATE TEMP TABLE scale_creators (k INTEGER PRIMARY KEY, urn TEXT NOT NULL)');
    const creator = db.prepare('INSERT INTO temp.scale_creators (k, urn) VALUES (?, ?)');
    for (const [k, urn] of plan.creators.entries()) creator.run(k, urn);
    const { status, version } = templateColumns(plan);
    const startMs = 'CAST(@base AS INTEGER) + i * CAST(@step AS INTEGER)';
    const i = 'i';
    const actions = db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT CAST(@lo AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @hi),
       s AS (SELECT ${actionIdSql('sqlite', i)} AS id,
                    (SELECT urn FROM temp.scale_creators WHERE k = i % @creators) AS creator,
                    ${requestIdSql('sqlite', i)} AS req,
                    ${timeSql('sqlite', startMs)} AS st,
                    ${timeSql('sqlite', `${startMs} + @completion`)} AS ct,
                    ${startMs} + @completion + @release AS exp,
                    ${saidSql('sqlite', i)} AS said
             FROM n)
       INSERT INTO gap_actions (action_id, creator_id, request_id, status, start_time, expires_at, version, record)
       SELECT id, creator, req, @status, st, exp, @version,
              json_replace(@template, '$.action_id', id, '$.creator_id', creator, '$.request_id', req,
                '$.request.request_id', req, '$.request.body.input_string', said,
                '$.monitor_by[0]', creator, '$.manage_by[0]', creator,
                '$.start_time', st, '$.completion_time', ct, '$.details.you_said', said, '$.expires_at', exp)
       FROM s`,
    );
    // monitor_by and manage_by are [creator], as the store writes them for a run without them;
    // the creator's own row came with each action, from the store's trigger.
    const principals = db.prepare(
      `INSERT INTO gap_principals (principal, role, action_id, status, start_time)
       SELECT a.creator_id, r.role, a.action_id, a.status, a.start_time
       FROM gap_actions a, (SELECT 'monitor' AS role UNION ALL SELECT 'manage') r WHERE a.start_time >= ?`,
    );
    db.transaction(() => {
      // BigInt binds as INTEGER (a JS number binds as REAL, which json_replace would write as 1.7e12).
      const inserted = actions.run({
        lo: BigInt(from),
        hi: BigInt(to),
        base: BigInt(plan.base),
        step: BigInt(plan.stepMs),
        completion: BigInt(plan.completionMs),
        release: BigInt(plan.releaseMs),
        creators: BigInt(plan.creators.length),
        status,
        version: BigInt(version),
        template: plan.template,
      });
      if (inserted.changes !== to - from) throw new Error(`SQLite: ${inserted.changes} actions inserted`);
      time.mark("actions (with the trigger's creator rows)");
      principals.run(timeText(startMsOf(plan, from)));
      time.mark('monitor and manage rows');
    })();
    time.mark('commit');
    db.exec('ANALYZE');
    time.mark('ANALYZE');
    db.pragma('wal_checkpoint(TRUNCATE)');
    time.mark('WAL checkpoint');
  } finally {
    db.close();
  }
  return time.text();
}

async function seedPostgres(sql: postgres.Sql, plan: SeedPlan, from: number, to: number): Promise<string> {
  const time = phases();
  const { status, version } = templateColumns(plan);
  const tables = `('gap_actions'::regclass, 'gap_principals'::regclass)`;
  await sql.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL maintenance_work_mem = '512MB'`);
    // As stores.ts loads: the indexes built once after the load (sorted) rather than row by row
    // (random B-tree inserts), the same definitions, recreated and checked identical.
    const indexDefs = async () =>
      (
        await tx.unsafe(
          `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('gap_actions', 'gap_principals') ORDER BY indexname`,
        )
      )
        .map((r) => `${String(r['indexname'])}: ${String(r['indexdef'])}`)
        .join('\n');
    const before = await indexDefs();
    const constraints = await tx.unsafe(
      `SELECT conname, conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid IN ${tables} AND contype IN ('p', 'u')`,
    );
    const indexes = await tx.unsafe(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('gap_actions', 'gap_principals') AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid IN ${tables})`,
    );
    for (const i of indexes) await tx.unsafe(`DROP INDEX ${String(i['indexname'])}`);
    for (const c of constraints)
      await tx.unsafe(`ALTER TABLE ${String(c['tbl'])} DROP CONSTRAINT ${String(c['conname'])}`);
    time.mark('indexes dropped');
    const startMs = '$5::bigint + g.i * $6::bigint';
    const inserted = await tx.unsafe(
      `WITH t AS (SELECT $1::text::jsonb AS j),
            c AS (SELECT e.k - 1 AS k, e.urn FROM jsonb_array_elements_text($2::text::jsonb) WITH ORDINALITY AS e(urn, k))
       INSERT INTO gap_actions (action_id, creator_id, request_id, status, start_time, expires_at, version, record)
       SELECT s.id, s.creator, s.req, $3, s.st, s.exp, $4::int,
         t.j || jsonb_build_object(
           'action_id', s.id, 'creator_id', s.creator, 'request_id', s.req,
           'request', (t.j -> 'request') || jsonb_build_object('request_id', s.req,
             'body', (t.j -> 'request' -> 'body') || jsonb_build_object('input_string', s.said)),
           'monitor_by', jsonb_build_array(s.creator), 'manage_by', jsonb_build_array(s.creator),
           'start_time', s.st, 'completion_time', s.ct,
           'details', (t.j -> 'details') || jsonb_build_object('you_said', s.said), 'expires_at', s.exp)
       FROM t, (
         SELECT g.i, ${actionIdSql('postgres', 'g.i')} AS id, c.urn AS creator, ${requestIdSql('postgres', 'g.i')} AS req,
                ${timeSql('postgres', startMs)} AS st, ${timeSql('postgres', `${startMs} + $7::bigint`)} AS ct,
                ${startMs} + $7::bigint + $8::bigint AS exp, ${saidSql('postgres', 'g.i')} AS said
         FROM generate_series($9::bigint, $10::bigint - 1) AS g(i) JOIN c ON c.k = g.i % $11::bigint
       ) s
       ORDER BY s.i`,
      [
        plan.template,
        JSON.stringify(plan.creators),
        status,
        version,
        plan.base,
        plan.stepMs,
        plan.completionMs,
        plan.releaseMs,
        from,
        to,
        plan.creators.length,
      ],
    );
    if (inserted.count !== to - from) throw new Error(`PostgreSQL: ${inserted.count} actions inserted`);
    time.mark("actions (with the trigger's creator rows)");
    // The store's monitor and manage rows (the creator's came from its trigger).
    await tx.unsafe(
      `INSERT INTO gap_principals (principal, role, action_id, status, start_time)
       SELECT a.creator_id, r.role, a.action_id, a.status, a.start_time
       FROM gap_actions a CROSS JOIN (VALUES ('monitor'), ('manage')) AS r(role) WHERE a.start_time >= $1`,
      [timeText(startMsOf(plan, from))],
    );
    time.mark('monitor and manage rows');
    for (const c of constraints)
      await tx.unsafe(`ALTER TABLE ${String(c['tbl'])} ADD CONSTRAINT ${String(c['conname'])} ${String(c['def'])}`);
    for (const i of indexes) await tx.unsafe(String(i['indexdef']));
    const after = await indexDefs();
    if (after !== before) throw new Error(`indexes differ after the load:\n${before}\n---\n${after}`);
    time.mark('indexes built');
  });
  time.mark('commit');
  await sql.unsafe('VACUUM (ANALYZE) gap_actions, gap_principals');
  time.mark('VACUUM ANALYZE');
  return time.text();
}

/** Sample actions of a step as the store holds them: the record, and its three principals rows. */
async function checkRows(
  store: StoreName,
  plan: SeedPlan,
  from: number,
  to: number,
  where: { file?: string; pg?: postgres.Sql },
) {
  const { file, pg } = where;
  const make = recordMaker(plan);
  const samples = [from, Math.floor((from + to) / 2), to - 1];
  const expectRoles = (rows: Record<string, unknown>[], i: number) => {
    const start = timeText(startMsOf(plan, i));
    const creator = plan.creators[i % plan.creators.length];
    const got = rows.map(
      (r) => `${String(r['role'])} ${String(r['principal'])} ${String(r['status'])} ${String(r['start_time'])}`,
    );
    const want = ['creator', 'manage', 'monitor'].map((role) => `${role} ${creator} SUCCEEDED ${start}`);
    if (got.join('\n') !== want.join('\n')) throw new Error(`${store}: principals of action ${i}:\n${got.join('\n')}`);
  };
  if (store === 'sqlite' && file !== undefined) {
    const db = new Database(file, { readonly: true });
    try {
      const count = db.prepare('SELECT count(*) AS n FROM gap_actions').get() as { n: number };
      if (count.n !== to) throw new Error(`sqlite: ${count.n} actions, expected ${to}`);
      for (const i of samples) {
        const row = db.prepare('SELECT record FROM gap_actions WHERE action_id = ?').get(actionIdOf(i)) as
          | { record: string }
          | undefined;
        if (row?.record !== make(i)) throw new Error(`sqlite: action ${i} is\n${row?.record}\nnot\n${make(i)}`);
        expectRoles(
          db
            .prepare('SELECT principal, role, status, start_time FROM gap_principals WHERE action_id = ? ORDER BY role')
            .all(actionIdOf(i)) as Record<string, unknown>[],
          i,
        );
      }
    } finally {
      db.close();
    }
  } else if (store === 'postgres' && pg !== undefined) {
    const count = Number((await pg.unsafe('SELECT count(*)::int AS n FROM gap_actions'))[0]?.['n']);
    if (count !== to) throw new Error(`postgres: ${count} actions, expected ${to}`);
    for (const i of samples) {
      const row = (
        await pg.unsafe(
          `SELECT record = $2::text::jsonb AS same, jsonb_typeof(record) AS kind, record::text AS text FROM gap_actions WHERE action_id = $1`,
          [actionIdOf(i), make(i)],
        )
      )[0];
      if (row?.['same'] !== true)
        throw new Error(
          `postgres: action ${i} is (${String(row?.['kind'])})\n${String(row?.['text'])}\nnot\n${make(i)}`,
        );
      expectRoles(
        await pg.unsafe(
          'SELECT principal, role, status, start_time FROM gap_principals WHERE action_id = $1 ORDER BY role',
          [actionIdOf(i)],
        ),
        i,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Setup

const work = mkdtempSync(join(tmpdir(), 'gap-bench-scale-'));
const luaFile = join(work, 'status.lua');
writeFileSync(luaFile, LUA);
const keyDir = join(work, 'key');
const dev = await devAuth({ dir: keyDir }); // writes the key the children read
const ownAuth = `Bearer ${await dev.mint({ scope: ECHO_SCOPE, expiresIn: '12h' })}`;
const creatorUrns = Array.from({ length: CREATORS }, (_, c) => `urn:globus:auth:identity:${creatorIdOf(c)}`);
const tokens: string[] = [];
for (let c = 0; c < CREATORS; c++)
  tokens.push(`Bearer ${await dev.mint({ identity: creatorIdOf(c), scope: ECHO_SCOPE, expiresIn: '12h' })}`);

/** Start times one second apart, ending an hour ago: increasing, all in the past. */
const STEP_MS = 1000;
const BASE = Date.now() - (SIZES.at(-1) as number) * STEP_MS - 3_600_000;

let pg: PostgresServer | undefined;
let admin: postgres.Sql | undefined;
let pgVersion = '';
let sqliteVersion = '';
let hono: Child | undefined;
const running = new Set<Child>();

/** The status requests at each size: `--targets` random actions of the whole table, each with its creator's token. */
const targetFiles = new Map<number, string>();
function targetsFor(size: number): string {
  let file = targetFiles.get(size);
  if (file === undefined) {
    file = join(work, `targets-${size}.tsv`);
    const lines: string[] = [];
    for (let k = 0; k < TARGETS; k++) {
      const i = Math.floor(Math.random() * size);
      lines.push(`/${actionIdOf(i)}/status\t${tokens[i % CREATORS]}`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    targetFiles.set(size, file);
  }
  return file;
}

interface Row {
  store: StoreName;
  size: number;
  seedSeconds: number;
  status: Sample;
  bare: Sample;
  errors: number;
  rss: number;
  heapUsed: number;
  rssPerAction: number;
  heapPerAction: number;
  enumerate: Enumerated;
  dataBytes: number | undefined;
}
const rows: Row[] = [];

function cleanUp(): void {
  for (const child of processes) child.kill('SIGKILL');
  try {
    pg?.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the children and PostgreSQL, removing ${work}`);
    cleanUp();
    process.exit(130);
  });
}

/** One store of one size, with its provider up. */
interface Sized {
  size: number;
  child: Child;
  seedSeconds: number;
  /** SQLite: the file; PostgreSQL: the database (its own, one per size). */
  file?: string;
  db?: postgres.Sql;
  drop?: () => Promise<void>;
  empty: { rss: number; heapUsed: number };
  status: Sample[];
  bare: Sample[];
}

const combine = (xs: Sample[]): Sample => ({
  rps: mean(xs.map((x) => x.rps)),
  p99: mean(xs.map((x) => x.p99)),
  cpu: mean(xs.map((x) => x.cpu)),
  gc: mean(xs.map((x) => x.gc)),
  requests: xs.reduce((n, x) => n + x.requests, 0),
  errors: xs.reduce((n, x) => n + x.errors, 0),
});

/** One round of status load on `child` (CPU and GC time read from it around the load). */
async function statusRound(child: Child, targets: string): Promise<Sample> {
  const before = await child.request({ type: 'cpu' }, 'cpu');
  const wall = performance.now();
  const s = await wrk(child.base, DURATION, targets);
  const after = await child.request({ type: 'cpu' }, 'cpu');
  s.cpu = (after.micros - before.micros) / s.requests;
  s.gc = (after.gcMs - before.gcMs) / (performance.now() - wall);
  return s;
}

/**
 * Status at every size of one store, in rounds: each round measures bare Hono and then each
 * size's provider (the order of the sizes turning from round to round), so the machine's drift
 * hits every size alike and each size's ratio to bare Hono is taken in the same minute.
 */
async function measureStatus(store: StoreName, sized: Sized[]): Promise<void> {
  const bare = hono as Child;
  if (WARMUP > 0) {
    for (const s of sized) {
      await wrk(bare.base, WARMUP, targetsFor(s.size));
      await wrk(s.child.base, WARMUP, targetsFor(s.size));
    }
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const order = sized.map((_, k) => sized[(k + round - 1) % sized.length] as Sized);
    const parts: string[] = [];
    for (const s of order) {
      const targets = targetsFor(s.size);
      const b = await wrk(bare.base, DURATION, targets);
      const m = await statusRound(s.child, targets);
      s.bare.push(b);
      s.status.push(m);
      parts.push(
        `${fmt(s.size)}: ${fmt(m.rps)} req/s (${(m.rps / b.rps).toFixed(2)} of bare Hono's ${fmt(b.rps)}; p99 ${ms(m.p99)} ms, ${fmt(m.cpu)} µs CPU/req, ${(m.gc * 100).toFixed(1)}% GC${m.errors > 0 ? `, ${m.errors} socket errors` : ''})`,
      );
    }
    log(`  ${store} round ${round}/${ROUNDS}: ${parts.join('; ')}`);
  }
}

async function dataBytes(store: StoreName, s: Sized): Promise<number | undefined> {
  if (store === 'sqlite' && s.file !== undefined) {
    const wal = `${s.file}-wal`;
    return statSync(s.file).size + (existsSync(wal) ? statSync(wal).size : 0);
  }
  if (store === 'postgres' && s.db !== undefined) {
    const row = (
      await s.db.unsafe(`SELECT pg_total_relation_size('gap_actions') + pg_total_relation_size('gap_principals') AS n`)
    )[0];
    return Number(row?.['n']);
  }
  return undefined;
}

/** The seeding plan from a real run on `child`'s store (read back, then deleted), and the child's memory then. */
async function templateOf(
  store: StoreName,
  child: Child,
): Promise<{ plan: SeedPlan; empty: { rss: number; heapUsed: number }; bytes: number }> {
  // Its status served under load first, so the "empty" memory figure includes what serving
  // costs, not only the store.
  const made = await call(
    `${child.base}/run`,
    {
      method: 'POST',
      headers: { authorization: ownAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: 'scale-template', body: { input_string: 'hello' } }),
    },
    202,
  );
  const templateId = (JSON.parse(made) as { action_id: string }).action_id;
  const warm = join(work, `warm-${store}.tsv`);
  writeFileSync(warm, `/${templateId}/status\t${ownAuth}\n`);
  await wrk(child.base, 2, warm);
  const { record: template } = await child.request({ type: 'take', actionId: templateId }, 'taken');
  const empty = await child.request({ type: 'rss' }, 'rss');
  const t = JSON.parse(template) as { status: string; start_time: string; completion_time: string; expires_at: number };
  if (t.status !== 'SUCCEEDED' || typeof t.expires_at !== 'number') throw new Error(`template: ${template}`);
  const completionMs = Date.parse(t.completion_time) - Date.parse(t.start_time);
  const plan: SeedPlan = {
    template,
    creators: creatorUrns,
    base: BASE,
    stepMs: STEP_MS,
    completionMs,
    releaseMs: t.expires_at - Date.parse(t.completion_time),
  };
  if (plan.base + plan.completionMs + plan.releaseMs < Date.now() + 86_400_000)
    throw new Error(`template: release_after too short for ${fmt(SIZES.at(-1) as number)} actions a second apart`);
  return { plan, empty: { rss: empty.rss, heapUsed: empty.heapUsed }, bytes: template.length };
}

/** A store of `size` actions of its own, seeded and checked, its provider up. */
async function sizedStore(store: StoreName, size: number): Promise<Sized> {
  const env: Record<string, string> = { BENCH_STORE: store, BENCH_KEY_DIR: keyDir };
  const where: { file?: string; db?: postgres.Sql; drop?: () => Promise<void> } = {};
  if (store === 'sqlite') {
    const dir = join(work, `sqlite-${size}`);
    mkdirSync(dir);
    env['BENCH_DATA_DIR'] = dir;
    where.file = join(dir, 'actions.db');
  }
  if (store === 'postgres') {
    const fresh = await freshDatabase((pg as PostgresServer).url);
    env['BENCH_DATABASE_URL'] = fresh.url;
    where.db = postgres(fresh.url, { max: 2, onnotice: () => {} });
    where.drop = async () => {
      await where.db?.end({ timeout: 5 });
      await fresh.drop();
    };
  }
  const child = await startChild(`${store} ${fmt(size)}`, 'provider', env);
  running.add(child);
  const { plan, empty, bytes } = await templateOf(store, child);
  const seedStarted = performance.now();
  let how = 'store.create() in the child';
  if (store === 'memory') {
    const seeded = await child.request({ type: 'seed', plan, from: 0, to: size }, 'seeded');
    if (seeded.size !== size) throw new Error(`memory: ${seeded.size} actions, expected ${size}`);
  } else if (store === 'sqlite') {
    how = seedSqlite(where.file as string, plan, 0, size);
  } else {
    how = await seedPostgres(where.db as postgres.Sql, plan, 0, size);
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  // SQLite's load held this event loop: let it see the keep-alive connections the server
  // closed meanwhile, or the next fetch would be sent on one of them.
  await new Promise((resolveTimer) => setTimeout(resolveTimer, 100));
  await checkRows(store, plan, 0, size, {
    ...(where.file ? { file: where.file } : {}),
    ...(where.db ? { pg: where.db } : {}),
  });
  for (const i of [0, size - 1]) {
    const body = await call(
      `${child.base}/${actionIdOf(i)}/status`,
      { headers: { authorization: tokens[i % CREATORS] as string } },
      200,
    );
    const said = (JSON.parse(body) as { details: { you_said?: string } }).details.you_said;
    if (said !== saidOf(i)) throw new Error(`${store}: action ${i} says ${said}`);
    // The baseline answers the same body as a real status answer (every one has the same length).
    hono ??= await startChild('bare Hono', 'hono', { BENCH_BODY: body });
  }
  log(
    `${store} ${fmt(size)}: template ${bytes} B of JSON, empty RSS ${mb(empty.rss)} MB, heap ${mb(empty.heapUsed)} MB; ` +
      `${fmt(size)} seeded in ${seedSeconds.toFixed(1)} s (${fmt(size / seedSeconds)}/s: ${how}); checked`,
  );
  return { size, child, seedSeconds, ...where, empty, status: [], bare: [] };
}

async function measureStore(store: StoreName): Promise<void> {
  if (store === 'postgres' && pg === undefined) {
    log('starting PostgreSQL');
    pg = await startPostgres();
    admin = postgres(pg.url, { max: 2, onnotice: () => {} });
    pgVersion = String((await admin.unsafe('SHOW server_version'))[0]?.['server_version'] ?? '?').split(
      ' ',
    )[0] as string;
  }
  const sized: Sized[] = [];
  try {
    for (const size of SIZES) sized.push(await sizedStore(store, size));
    await measureStatus(store, sized);
    for (const s of sized) {
      const listed = await enumerate(s.child.base, tokens[0] as string, Math.ceil(s.size / CREATORS));
      const memory = await s.child.request({ type: 'rss' }, 'rss');
      const bytes = await dataBytes(store, s);
      const status = combine(s.status);
      const bare = combine(s.bare);
      const row: Row = {
        store,
        size: s.size,
        seedSeconds: s.seedSeconds,
        status,
        bare,
        errors: status.errors,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        rssPerAction: (memory.rss - s.empty.rss) / s.size,
        heapPerAction: (memory.heapUsed - s.empty.heapUsed) / s.size,
        enumerate: listed,
        dataBytes: bytes,
      };
      rows.push(row);
      log(
        `${store} @ ${fmt(s.size)}: status ${fmt(status.rps)} req/s (${(status.rps / bare.rps).toFixed(2)} of bare Hono's ${fmt(bare.rps)}), p99 ${ms(status.p99)} ms, ${fmt(status.cpu)} µs CPU/req, ${(status.gc * 100).toFixed(1)}% in GC; ` +
          `RSS ${mb(memory.rss)} MB, heap ${mb(memory.heapUsed)} MB (${fmt(row.rssPerAction)} / ${fmt(row.heapPerAction)} B per action); ` +
          `enumerate ${fmt(listed.listed)} in ${listed.pages} pages: ${ms(listed.first)} / ${ms(listed.middle)} / ${ms(listed.last)} ms per page, walk ${ms(listed.walkMs)} ms` +
          (bytes === undefined ? '' : `; data ${mb(bytes)} MB`),
      );
    }
  } finally {
    for (const s of sized) {
      running.delete(s.child);
      await s.child.stop();
      await s.drop?.();
      if (s.file !== undefined) rmSync(dirname(s.file), { recursive: true, force: true });
    }
  }
}

let failure: unknown;
try {
  sqliteVersion = String(
    (new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string } | undefined)?.v,
  );
  log(
    `${STORES.join(', ')} at ${SIZES.map(fmt).join(', ')} actions; ${CREATORS} creators; ${CONNECTIONS} connections, ${WARMUP} s warm-up, ${ROUNDS} × ${DURATION} s rounds`,
  );
  for (const store of STORES) await measureStore(store);
} catch (error) {
  failure = error;
} finally {
  for (const child of running) await child.stop().catch(() => {});
  await hono?.stop().catch(() => {});
  await admin?.end({ timeout: 5 }).catch(() => {});
  cleanUp();
}

// ---------------------------------------------------------------------------------------------
// Report

const command = `npx tsx test/bench/scale.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const smallest = (store: StoreName) => rows.find((r) => r.store === store);
const label: Record<StoreName, string> = {
  memory: 'memory',
  sqlite: 'SQLite',
  postgres: `PostgreSQL ${pgVersion}`,
};
const lines = [
  '',
  `| store | actions | seed s | status req/s | bare Hono req/s | ratio to bare Hono | ratio to ${fmt(SIZES[0] as number)} | the same, each over bare Hono | p99 ms | server CPU µs/req | GC % | RSS MB | heap MB | B/action RSS | B/action heap | enumerate ms/page first / middle / last | pages, walk ms | data MB |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => {
    const base = smallest(r.store) as Row;
    const e = r.enumerate;
    return (
      `| ${label[r.store]} | ${fmt(r.size)} | ${r.seedSeconds.toFixed(1)} | ${fmt(r.status.rps)} | ${fmt(r.bare.rps)} | ${(r.status.rps / r.bare.rps).toFixed(2)} | ` +
      `${(r.status.rps / base.status.rps).toFixed(2)} | ${(r.status.rps / r.bare.rps / (base.status.rps / base.bare.rps)).toFixed(2)} | ` +
      `${ms(r.status.p99)} | ${fmt(r.status.cpu)} | ${(r.status.gc * 100).toFixed(1)} | ${mb(r.rss)} | ${mb(r.heapUsed)} | ${fmt(r.rssPerAction)} | ${fmt(r.heapPerAction)} | ` +
      `${ms(e.first)} / ${ms(e.middle)} / ${ms(e.last)} | ${e.pages}, ${fmt(e.walkMs)} | ${r.dataBytes === undefined ? '–' : mb(r.dataBytes)} |`
    );
  }),
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; SQLite ${sqliteVersion} (better-sqlite3)${pgVersion ? `; PostgreSQL ${pgVersion}` : ''}; load average ${loadBefore} before, ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} after`,
  `Server CPU: user + system time of the provider process per status request (its threads included; PostgreSQL's processes not), usually less disturbed than req/s by other work on the machine (not always: a busy neighbour on these 2 cores raises it too); GC %: the share of the status rounds' wall time the provider spent collecting garbage. ` +
    `"The same, each over bare Hono": the ratio to the smallest size of each size's ratio to bare Hono (measured in the same minute), which takes out most drift of the machine's speed.`,
  `Command: \`${command}\` (wrk -t1 -c${CONNECTIONS}, ${WARMUP} s warm-up, ${ROUNDS} rounds × ${DURATION} s alternating with bare Hono, req/s and p99 the means of the rounds; ` +
    `random status targets: ${fmt(TARGETS)} (action, its creator's token) pairs per size; ${CREATORS} creators, each owning size / ${CREATORS}; enumerate: creator 0, limit ${LIMIT}, median of ${REPEAT} per page)`,
  ...(rows.some((r) => r.errors > 0)
    ? [
        `wrk socket errors (connect/read/write/timeout): ${rows.map((r) => `${r.store} @ ${fmt(r.size)}: ${r.errors}`).join(', ')}`,
      ]
    : []),
  `Total time: ${((performance.now() - started) / 1000).toFixed(0)} s (load average now ${load1()})`,
];
console.log(lines.join('\n'));
if (failure !== undefined) {
  console.error(failure);
  process.exitCode = 1;
}
