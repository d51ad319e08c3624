/**
 * @module test/bench/core: throughput and latency of the provider, with and without a URL
 * prefix, on the memory and the SQLite store, against a bare Hono GET and a bare Hono POST.
 *
 *   npm run bench                      (= npx tsx test/bench/core.ts)
 *   npx tsx test/bench/core.ts --duration 5 --rounds 3 --warmup 2 --connections 32 --actions 100000
 *   npx tsx test/bench/core.ts --profile   (also writes CPU profiles of the provider processes to $TMPDIR/globus-action-provider-bench-prof/)
 *   npx tsx test/bench/core.ts --adapter hono-serve   (serve the unprefixed provider with @hono/node-server's serve(), globals replaced)
 *
 * This process is only the load generator (autocannon). Each server runs in its own child
 * process (test/bench/server.ts, bundled by esbuild and run by plain `node`): a bare Hono app
 * serving, with @hono/node-server, the very JSON bodies the provider answers (one GET route per
 * body size) and a POST route that parses a body of the run's size; and the echo provider (dev
 * JWT authenticator, silent logger) on the memory store and on SQLite (`synchronous=FULL`, the
 * default), each served by adapters/node.ts twice: without a prefix and under `/skeleton`. Only
 * one server is under load at a time; the scenarios are interleaved round by round so drift
 * (other processes, thermal) hits all of them alike, and each figure is the median of the
 * rounds, after a warm-up. Besides requests per second and latency, the server process's CPU
 * time per request (what the throughput is made of, and much less sensitive than req/s to other
 * processes competing for the cores) and its event loop's delay under load are reported.
 *
 * Memory: a fresh provider process, RSS after a forced GC when idle, then after 100,000 actions
 * were created in-process inside the child through `provider.fetch` (the whole pipeline: bearer
 * token, jwtAuth cache, validation, run callback, memory store; only the socket is skipped).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { bundledServer } from './bundle.ts';
import type { FromChild, ToChild } from './server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROFILE_DIR = join(tmpdir(), 'globus-action-provider-bench-prof');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    actions: { type: 'string', default: '100000' },
    adapter: { type: 'string', default: 'node' },
    profile: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const ACTIONS = Number(args.actions);
if (args.adapter !== 'node' && args.adapter !== 'hono-serve') throw new Error('--adapter: node or hono-serve');
const ADAPTER_LABEL =
  args.adapter === 'node' ? 'adapters/node.ts' : "@hono/node-server's serve() (global Request/Response replaced)";

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  process: ChildProcess;
  port: number;
  prefixedPort: number | undefined;
  token: string | undefined;
  request<T extends FromChild['type']>(message: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>>;
  stop(): Promise<void>;
}

const SERVER_JS = await bundledServer('test/bench/server.ts');

async function startChild(
  mode: 'hono' | 'provider',
  env: Record<string, string> = {},
  profile = false,
): Promise<Child> {
  const execArgv = ['--expose-gc'];
  if (profile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
  }
  const child = fork(SERVER_JS, [mode], {
    cwd: ROOT,
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolvePromise, reject) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolvePromise(message as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`${mode} server exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    process: child,
    port: ready.port,
    prefixedPort: ready.prefixedPort,
    token: ready.token,
    request(message, reply) {
      const answer = next(reply);
      child.send(message);
      return answer;
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
  /** Server CPU time per request, microseconds. */
  cpu: number;
  p50: number;
  p99: number;
  /** The server's event-loop delay under load, ms: 99th percentile and maximum. */
  loopP99: number;
  loopMax: number;
}

interface Scenario {
  name: string;
  server: () => Child;
  /** Under the provider's prefix (its second port). */
  prefixed?: boolean;
  path: string;
  /** More autocannon options for this scenario (headers, requests...). */
  options?: () => Partial<autocannon.Options>;
  /** Status code every response must have. */
  expect: number;
  samples: Sample[];
}

async function load(scenario: Scenario, seconds: number): Promise<Sample> {
  const server = scenario.server();
  const port = scenario.prefixed ? server.prefixedPort : server.port;
  const before = await server.request({ type: 'cpu' }, 'cpu');
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${scenario.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    ...scenario.options?.(),
  });
  const after = await server.request({ type: 'cpu' }, 'cpu');
  const codes = result.statusCodeStats ?? {};
  const unexpected = Object.entries(codes).filter(
    ([code, stats]) => Number(code) !== scenario.expect && (stats?.count ?? 0) > 0,
  );
  if (result.errors > 0 || result.timeouts > 0 || unexpected.length > 0) {
    throw new Error(
      `${scenario.name}: ${result.errors} errors, ${result.timeouts} timeouts, unexpected statuses ${JSON.stringify(Object.fromEntries(unexpected))}`,
    );
  }
  const requests = result.requests.total;
  // Completed requests over the measured time (the mean, not autocannon's per-second median).
  return {
    rps: requests / (result.duration || seconds),
    cpu: (after.micros - before.micros) / requests,
    p50: result.latency.p50,
    p99: result.latency.p99,
    loopP99: after.loopP99,
    loopMax: after.loopMax,
  };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const load1 = () => loadavg()[0]?.toFixed(1) ?? '?';

// ---------------------------------------------------------------------------------------------
// Main

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const loadBefore = load1();
const PREFIX = '/skeleton';

log(`starting the provider processes, memory and SQLite (${ADAPTER_LABEL})${args.profile ? ', with --cpu-prof' : ''}`);
const memory = await startChild('provider', { BENCH_ADAPTER: args.adapter, BENCH_PREFIX: PREFIX }, args.profile);
const sqlite = await startChild(
  'provider',
  { BENCH_ADAPTER: args.adapter, BENCH_PREFIX: PREFIX, BENCH_STORE: 'sqlite' },
  args.profile,
);
const memoryWork = await startChild('provider', { BENCH_ADAPTER: args.adapter, BENCH_PREFIX: PREFIX, BENCH_WORK: '1' });
const sqliteWork = await startChild('provider', {
  BENCH_ADAPTER: args.adapter,
  BENCH_PREFIX: PREFIX,
  BENCH_STORE: 'sqlite',
  BENCH_WORK: '1',
});
const authOf = (child: Child) => ({ authorization: `Bearer ${child.token as string}` });

let runCounter = 0;
const runRequestBody = () => JSON.stringify({ request_id: `bench-${++runCounter}`, body: { input_string: 'hello' } });

/** The bodies to match (what the provider really answers) and an action to read, from one provider process. */
async function probe(child: Child) {
  const base = `http://127.0.0.1:${child.port}`;
  const auth = authOf(child);
  const introspection = await fetch(`${base}/`);
  const introspectionBody = await introspection.text();
  const runRequest = runRequestBody();
  const created = await fetch(`${base}/run`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: runRequest,
  });
  const runBody = await created.text();
  if (introspection.status !== 200 || created.status !== 202)
    throw new Error(`probe failed: GET / ${introspection.status}, POST /run ${created.status}`);
  const actionId = (JSON.parse(runBody) as { action_id: string }).action_id;
  const statusResponse = await fetch(`${base}/${actionId}/status`, { headers: auth });
  const statusBody = await statusResponse.text();
  if (statusResponse.status !== 200) throw new Error(`probe failed: GET /{id}/status ${statusResponse.status}`);
  const prefixed = await fetch(`http://127.0.0.1:${child.prefixedPort}${PREFIX}/${actionId}/status`, { headers: auth });
  if ((await prefixed.text()) !== statusBody) throw new Error('probe failed: the prefixed status differs');
  return { introspectionBody, runRequest, runBody, actionId, statusBody };
}
const onMemory = await probe(memory);
const onSqlite = await probe(sqlite);

// One bare GET route per distinct body size; each serves a provider body byte for byte (c.json of the parsed body).
const bareRoutes = new Map<number, { path: string; body: string }>();
for (const body of [onMemory.introspectionBody, onMemory.statusBody]) {
  const size = Buffer.byteLength(body);
  if (!bareRoutes.has(size)) bareRoutes.set(size, { path: `/x${bareRoutes.size}`, body });
}
log(`starting the bare Hono process (GET routes of ${[...bareRoutes.keys()].join(', ')} bytes, POST /post)`);
const hono = await startChild('hono', {
  BENCH_ROUTES: JSON.stringify(
    Object.fromEntries([...bareRoutes.values()].map(({ path, body }) => [path, JSON.parse(body)])),
  ),
  BENCH_POST_BODY: onMemory.runBody,
});
for (const [size, { path }] of bareRoutes) {
  const text = await (await fetch(`http://127.0.0.1:${hono.port}${path}`)).text();
  if (Buffer.byteLength(text) !== size)
    throw new Error(`bare route ${path}: ${Buffer.byteLength(text)} bytes, expected ${size}`);
}
const honoIdle = await hono.request({ type: 'rss' }, 'rss');

const scenario = (s: Omit<Scenario, 'samples'>): Scenario => ({ ...s, samples: [] });
const bareGet = (body: string) => {
  const size = Buffer.byteLength(body);
  const { path } = bareRoutes.get(size) as { path: string };
  return scenario({ name: `bare Hono GET (${size} B)`, server: () => hono, path, expect: 200 });
};
const postOptions = (headers: Record<string, string>, body: () => string) => () => ({
  requests: [
    {
      method: 'POST' as const,
      headers: { ...headers, 'content-type': 'application/json' },
      setupRequest: (request: autocannon.Request) => ({ ...request, body: body() }),
    },
  ],
});
const bareIntrospection = bareGet(onMemory.introspectionBody);
const bareStatus = bareGet(onMemory.statusBody);
const barePost = scenario({
  name: `bare Hono POST (${Buffer.byteLength(onMemory.runRequest)} B in)`,
  server: () => hono,
  path: '/post',
  expect: 202,
  options: postOptions({}, runRequestBody),
});

type Store = 'memory' | 'sqlite';
const child = (store: Store) => (store === 'memory' ? memory : sqlite);
const at = (prefixed: boolean, path: string) => (prefixed ? `${PREFIX}${path === '/' ? '/' : path}` : path);
const where = (store: Store, prefixed: boolean) => `${store}${prefixed ? `, ${PREFIX}` : ''}`;
const introspect = (prefixed: boolean) =>
  scenario({
    name: `GET / (${where('memory', prefixed)})`,
    server: () => memory,
    prefixed,
    path: at(prefixed, '/'),
    expect: 200,
  });
const status = (store: Store, prefixed: boolean) => {
  const id = (store === 'memory' ? onMemory : onSqlite).actionId;
  return scenario({
    name: `GET /{id}/status (${where(store, prefixed)})`,
    server: () => child(store),
    prefixed,
    path: at(prefixed, `/${id}/status`),
    expect: 200,
    options: () => ({ headers: authOf(child(store)) }),
  });
};
// A fresh request_id per request, or it would be an idempotent replay (200, not 202).
const run = (store: Store, prefixed: boolean) =>
  scenario({
    name: `POST /run (${where(store, prefixed)})`,
    server: () => child(store),
    prefixed,
    path: at(prefixed, '/run'),
    expect: 202,
    options: postOptions(authOf(child(store)), runRequestBody),
  });

interface Comparison {
  scenario: Scenario;
  baseline: Scenario;
  /** The ratio to the baseline this scenario must reach, if it has a target. */
  target?: number;
}
const runs = {
  memory: [run('memory', false), run('memory', true)],
  sqlite: [run('sqlite', false), run('sqlite', true)],
};
/** A run that answers ACTIVE and schedules background work, which then completes it. */
const runWithWork = (store: Store) => {
  const server = store === 'memory' ? memoryWork : sqliteWork;
  return scenario({
    name: `POST /run + work (${store})`,
    server: () => server,
    path: '/run',
    expect: 202,
    options: postOptions(authOf(server), runRequestBody),
  });
};
const comparisons: Comparison[] = [
  { scenario: introspect(false), baseline: bareIntrospection, target: 0.8 },
  { scenario: introspect(true), baseline: bareIntrospection, target: 0.8 },
  { scenario: status('memory', false), baseline: bareStatus, target: 0.8 },
  { scenario: status('memory', true), baseline: bareStatus, target: 0.8 },
  { scenario: status('sqlite', false), baseline: bareStatus },
  { scenario: status('sqlite', true), baseline: bareStatus },
  { scenario: runs.memory[0] as Scenario, baseline: barePost, target: 0.5 },
  { scenario: runs.memory[1] as Scenario, baseline: barePost, target: 0.5 },
  // A durable run against the same run on the memory store: what durability costs.
  { scenario: runs.sqlite[0] as Scenario, baseline: runs.memory[0] as Scenario, target: 0.6 },
  { scenario: runs.sqlite[1] as Scenario, baseline: runs.memory[1] as Scenario, target: 0.6 },
  // Scheduling work with the answer (and doing it: one more write per action) against a run without.
  { scenario: runWithWork('memory'), baseline: runs.memory[0] as Scenario },
  { scenario: runWithWork('sqlite'), baseline: runs.sqlite[0] as Scenario },
];

// Interleaved order: each baseline right before the scenarios compared with it.
const order: Scenario[] = [];
for (const c of comparisons) {
  if (!order.includes(c.baseline)) order.push(c.baseline);
  if (!order.includes(c.scenario)) order.push(c.scenario);
}

log(`warm-up: ${WARMUP} s per scenario, ${order.length} scenarios, ${CONNECTIONS} connections`);
for (const s of order) await load(s, WARMUP);
for (let round = 1; round <= ROUNDS; round++) {
  for (const s of order) {
    const sample = await load(s, DURATION);
    s.samples.push(sample);
    log(
      `round ${round}/${ROUNDS}  ${s.name.padEnd(36)} ${fmt(sample.rps).padStart(7)} req/s  ` +
        `${sample.cpu.toFixed(1).padStart(6)} µs CPU/req  p50 ${sample.p50} ms  p99 ${sample.p99} ms  ` +
        `loop p99 ${sample.loopP99.toFixed(1)} ms, max ${sample.loopMax.toFixed(1)} ms`,
    );
  }
}
const runsCreated = runCounter;
await Promise.all([hono.stop(), memory.stop(), sqlite.stop(), memoryWork.stop(), sqliteWork.stop()]);
if (args.profile)
  log(
    `CPU profiles of the provider processes written to ${PROFILE_DIR}/ (the *.0.001.cpuprofile are the main threads)`,
  );

// Memory, in a fresh provider process with nothing else running.
log(`memory: fresh provider process, then ${fmt(ACTIONS)} actions in-process through provider.fetch`);
const memoryChild = await startChild('provider', { BENCH_ADAPTER: args.adapter });
const idle = await memoryChild.request({ type: 'rss' }, 'rss');
const filled = await memoryChild.request({ type: 'fill', count: ACTIONS }, 'filled');
if (filled.failed > 0) throw new Error(`fill: ${filled.failed} of ${filled.count} runs did not answer 202`);
const full = await memoryChild.request({ type: 'rss' }, 'rss');
await memoryChild.stop();
log(
  `created ${fmt(ACTIONS)} actions in ${(filled.ms / 1000).toFixed(1)} s (${fmt((ACTIONS / filled.ms) * 1000)} runs/s in-process)`,
);

// ---------------------------------------------------------------------------------------------
// Report

/** The median of each figure over the rounds. */
const figures = (s: Scenario) => {
  const of = (key: keyof Sample) => median(s.samples.map((sample) => sample[key]));
  return {
    rps: of('rps'),
    cpu: of('cpu'),
    p50: of('p50'),
    p99: of('p99'),
    loopP99: of('loopP99'),
    loopMax: of('loopMax'),
  };
};
const command = `npx tsx test/bench/core.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const results = comparisons.map((c) => {
  const mine = figures(c.scenario);
  const base = figures(c.baseline);
  const ratio = mine.rps / base.rps;
  return { ...c, mine, base, ratio, met: c.target === undefined || ratio >= c.target };
});
const row = (name: string, f: ReturnType<typeof figures>, rest: string) =>
  `| ${name} | ${fmt(f.rps)} | ${f.p50} | ${f.p99} | ${f.cpu.toFixed(0)} | ${f.loopP99.toFixed(1)} / ${f.loopMax.toFixed(0)} | ${rest} |`;
const prefixCost = (name: string, plain: Scenario, prefixed: Scenario) =>
  `${name}: ${(figures(prefixed).rps / figures(plain).rps).toFixed(2)} of the rate without a prefix, CPU/req ${figures(plain).cpu.toFixed(0)} → ${figures(prefixed).cpu.toFixed(0)} µs`;
const baselines = [bareIntrospection, bareStatus, barePost];

const lines = [
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; load average ${loadBefore} before, ${load1()} after`,
  `Command: \`${command}\` (provider served by ${ADAPTER_LABEL}; ${CONNECTIONS} connections; median of ${ROUNDS} × ${DURATION} s after ${WARMUP} s warm-up; servers in child processes, autocannon in the parent)`,
  '',
  '| Scenario | req/s | p50 ms | p99 ms | server CPU µs/req | event loop delay p99 / max ms | ratio to | ratio | target |',
  '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | :---: |',
  ...baselines.map((b) => row(b.name, figures(b), '(baseline) | | ')),
  ...results.map((r) =>
    row(
      r.scenario.name,
      r.mine,
      `${r.baseline.name} | ${r.ratio.toFixed(2)} | ${r.target === undefined ? '' : `≥ ${r.target} ${r.met ? 'met' : 'MISSED'}`}`,
    ),
  ),
  '',
  'What the prefix costs (same process, same store):',
  `- ${prefixCost('GET /', (comparisons[0] as Comparison).scenario, (comparisons[1] as Comparison).scenario)}`,
  `- ${prefixCost('status, memory', (comparisons[2] as Comparison).scenario, (comparisons[3] as Comparison).scenario)}`,
  `- ${prefixCost('status, SQLite', (comparisons[4] as Comparison).scenario, (comparisons[5] as Comparison).scenario)}`,
  `- ${prefixCost('run, memory', runs.memory[0] as Scenario, runs.memory[1] as Scenario)}`,
  `- ${prefixCost('run, SQLite', runs.sqlite[0] as Scenario, runs.sqlite[1] as Scenario)}`,
  '',
  '| Process memory (RSS after forced GC) | RSS |',
  '| --- | ---: |',
  `| Bare Hono process, idle (baseline: Node + Hono) | ${mib(honoIdle.rss)} |`,
  `| Provider process, idle (memory store empty) | ${mib(idle.rss)} |`,
  `| Provider process, ${fmt(ACTIONS)} actions stored (created in-process via provider.fetch) | ${mib(full.rss)} |`,
  `| Per stored action ((after − idle) / ${fmt(ACTIONS)}) | ${fmt((full.rss - idle.rss) / ACTIONS)} B |`,
  '',
  "Bare Hono: `new Hono().get(path, c => c.json(body))` (body = the provider's own response, same bytes) and a POST that parses the run's JSON body (`await c.req.json()`) and answers the run's response, served by @hono/node-server's serve().",
  `POST /run: a unique request_id per request (${fmt(runsCreated)} actions created during the run scenarios); SQLite at synchronous=FULL: each acknowledged run is on disk.`,
  'Server CPU: user + system time of the server process per request. Event loop delay: monitorEventLoopDelay in the server, over each sample.',
  '',
  ...results
    .filter((r) => r.target !== undefined)
    .map(
      (r) =>
        `Target ${r.scenario.name}: ${r.ratio.toFixed(2)} of ${r.baseline.name} ${r.met ? '>=' : '<'} ${r.target}: ${r.met ? 'met' : 'MISSED'}`,
    ),
  `Total time: ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
console.log(lines.join('\n'));
process.exitCode = results.every((r) => r.met) ? 0 : 1;
