/**
 * @module test/bench/core: throughput of the provider against a bare Hono route, and its memory.
 *
 *   npm run bench                      (= npx tsx test/bench/core.ts)
 *   npx tsx test/bench/core.ts --duration 5 --rounds 3 --warmup 2 --connections 10 --actions 100000
 *   npx tsx test/bench/core.ts --profile   (also writes a CPU profile of the provider process to $TMPDIR/globus-action-provider-bench-prof/)
 *   npx tsx test/bench/core.ts --adapter hono-serve   (serve the provider with @hono/node-server's serve(), globals replaced)
 *
 * This process is only the load generator (autocannon). Each server runs in its own child
 * process (test/bench/server.ts, bundled by esbuild and run by plain `node`): a bare Hono app serving, with
 * @hono/node-server, the very JSON bodies the provider answers (one route per distinct body
 * size), and the echo provider (dev JWT authenticator, memory store, silent logger) served by
 * adapters/node.ts. Both stay up, and only one is under load at a time; the scenarios are
 * interleaved round by round so drift (other processes, thermal) hits all of them alike, and
 * each figure is the median of the rounds, after a warm-up. Besides requests per second, the
 * server process's CPU time per request is reported: it is what the throughput is made of, and
 * it is much less sensitive than req/s to other processes competing for the cores.
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
    connections: { type: 'string', default: '10' },
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

interface Scenario {
  name: string;
  server: () => Child;
  path: string;
  /** More autocannon options for this scenario (headers, requests...). */
  options?: () => Partial<autocannon.Options>;
  /** Status code every response must have. */
  expect: number;
  rps: number[];
  /** Server CPU time per request, microseconds. */
  cpu: number[];
}

async function load(scenario: Scenario, seconds: number): Promise<{ rps: number; cpu: number; p99: number }> {
  const server = scenario.server();
  const before = await server.request({ type: 'cpu' }, 'cpu');
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${scenario.path}`,
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
    p99: result.latency.p99,
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

log(`starting the provider process (${ADAPTER_LABEL})${args.profile ? ', with --cpu-prof' : ''}`);
const provider = await startChild('provider', { BENCH_ADAPTER: args.adapter }, args.profile);
const token = provider.token as string;
const base = `http://127.0.0.1:${provider.port}`;
const auth = { authorization: `Bearer ${token}` };

// The bodies to match: what the provider really answers.
const introspection = await fetch(`${base}/`);
const introspectionBody = await introspection.text();
const created = await fetch(`${base}/run`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({ request_id: 'bench-probe', body: { input_string: 'hello' } }),
});
const runBody = await created.text();
if (introspection.status !== 200 || created.status !== 202)
  throw new Error(`probe failed: GET / ${introspection.status}, POST /run ${created.status}`);
const actionId = (JSON.parse(runBody) as { action_id: string }).action_id;
const statusResponse = await fetch(`${base}/${actionId}/status`, { headers: auth });
const statusBody = await statusResponse.text();
if (statusResponse.status !== 200) throw new Error(`probe failed: GET /{id}/status ${statusResponse.status}`);

// One bare route per distinct body size; each serves a provider body byte for byte (c.json of the parsed body).
const bareRoutes = new Map<number, { path: string; body: string }>();
for (const body of [introspectionBody, runBody, statusBody]) {
  const size = Buffer.byteLength(body);
  if (!bareRoutes.has(size)) bareRoutes.set(size, { path: `/x${bareRoutes.size}`, body });
}
log(`starting the bare Hono process (one route per body size: ${[...bareRoutes.keys()].join(', ')} bytes)`);
const hono = await startChild('hono', {
  BENCH_ROUTES: JSON.stringify(
    Object.fromEntries([...bareRoutes.values()].map(({ path, body }) => [path, JSON.parse(body)])),
  ),
});
for (const [size, { path }] of bareRoutes) {
  const text = await (await fetch(`http://127.0.0.1:${hono.port}${path}`)).text();
  if (Buffer.byteLength(text) !== size)
    throw new Error(`bare route ${path}: ${Buffer.byteLength(text)} bytes, expected ${size}`);
}
const honoIdle = await hono.request({ type: 'rss' }, 'rss');

const bare = new Map<number, Scenario>();
for (const [size, { path }] of bareRoutes) {
  bare.set(size, {
    name: `bare Hono GET ${path} (${size} B)`,
    server: () => hono,
    path,
    expect: 200,
    rps: [],
    cpu: [],
  });
}
let runCounter = 0;
const runRequestBody = () => JSON.stringify({ request_id: `bench-${++runCounter}`, body: { input_string: 'hello' } });
const providerScenario = (name: string, path: string, expect: number, options?: Scenario['options']): Scenario => ({
  name,
  server: () => provider,
  path,
  ...(options ? { options } : {}),
  expect,
  rps: [],
  cpu: [],
});

const comparisons = [
  {
    label: 'GET / (introspection, public)',
    scenario: providerScenario('provider GET /', '/', 200),
    body: introspectionBody,
    target: 0.8,
  },
  {
    label: 'POST /run (JWT, memory store)',
    // A fresh request_id per request, or it would be an idempotent replay (200, not 202).
    scenario: providerScenario('provider POST /run', '/run', 202, () => ({
      requests: [
        {
          method: 'POST' as const,
          headers: { ...auth, 'content-type': 'application/json' },
          setupRequest: (request: autocannon.Request) => ({ ...request, body: runRequestBody() }),
        },
      ],
    })),
    body: runBody,
    target: 0.5,
  },
  {
    label: 'GET /{id}/status (JWT)',
    scenario: providerScenario('provider GET /{id}/status', `/${actionId}/status`, 200, () => ({ headers: auth })),
    body: statusBody,
    target: 0.8,
  },
].map((c) => ({ ...c, size: Buffer.byteLength(c.body), bare: bare.get(Buffer.byteLength(c.body)) as Scenario }));

// Interleaved order: each provider scenario right after its bare baseline.
const order: Scenario[] = [];
for (const c of comparisons) {
  if (!order.includes(c.bare)) order.push(c.bare);
  order.push(c.scenario);
}

log(`warm-up: ${WARMUP} s per scenario, ${order.length} scenarios, ${CONNECTIONS} connections`);
for (const scenario of order) await load(scenario, WARMUP);
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of order) {
    const sample = await load(scenario, DURATION);
    scenario.rps.push(sample.rps);
    scenario.cpu.push(sample.cpu);
    log(
      `round ${round}/${ROUNDS}  ${scenario.name.padEnd(34)} ${fmt(sample.rps).padStart(7)} req/s  ` +
        `${sample.cpu.toFixed(1).padStart(6)} µs CPU/req  p99 ${sample.p99} ms`,
    );
  }
}
const runsCreated = runCounter;
await Promise.all([hono.stop(), provider.stop()]);
if (args.profile)
  log(`CPU profile of the provider process written to ${PROFILE_DIR}/ (the *.0.001.cpuprofile is the main thread)`);

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

const command = `npx tsx test/bench/core.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const results = comparisons.map((c) => {
  const bareRps = median(c.bare.rps);
  const providerRps = median(c.scenario.rps);
  const ratio = providerRps / bareRps;
  return {
    ...c,
    bareRps,
    providerRps,
    ratio,
    bareCpu: median(c.bare.cpu),
    providerCpu: median(c.scenario.cpu),
    met: ratio >= c.target,
  };
});

const lines = [
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; load average ${loadBefore} before, ${load1()} after`,
  `Command: \`${command}\` (provider served by ${ADAPTER_LABEL}; ${CONNECTIONS} connections; median of ${ROUNDS} × ${DURATION} s after ${WARMUP} s warm-up; servers in child processes, autocannon in the parent)`,
  '',
  '| Scenario | Body (B) | Bare Hono (req/s) | Provider (req/s) | Ratio | Target | Met | Server CPU µs/req, bare → provider (ratio) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.size} | ${fmt(r.bareRps)} | ${fmt(r.providerRps)} | ${r.ratio.toFixed(2)} | ≥ ${r.target} | ${r.met ? 'yes' : 'NO'} | ` +
      `${r.bareCpu.toFixed(0)} → ${r.providerCpu.toFixed(0)} (${(r.bareCpu / r.providerCpu).toFixed(2)}) |`,
  ),
  '',
  '| Process memory (RSS after forced GC) | RSS |',
  '| --- | ---: |',
  `| Bare Hono process, idle (baseline: Node + tsx + Hono) | ${mib(honoIdle.rss)} |`,
  `| Provider process, idle (memory store empty) | ${mib(idle.rss)} |`,
  `| Provider process, ${fmt(ACTIONS)} actions stored (created in-process via provider.fetch) | ${mib(full.rss)} |`,
  `| Per stored action ((after − idle) / ${fmt(ACTIONS)}) | ${fmt((full.rss - idle.rss) / ACTIONS)} B |`,
  '',
  `Bare Hono: \`new Hono().get(path, c => c.json(body))\` served by @hono/node-server's serve(); body = the provider's own response, same bytes.`,
  `POST /run: a unique request_id per request (${fmt(runsCreated)} actions created during the run scenarios).`,
  'Server CPU: user + system time of the server process per request; its ratio is the throughput ratio on an otherwise idle core.',
  '',
  ...results.map(
    (r) =>
      `Target ${r.label}: ratio ${r.ratio.toFixed(2)} ${r.met ? '>=' : '<'} ${r.target}: ${r.met ? 'met' : 'MISSED'}`,
  ),
  `Total time: ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
console.log(lines.join('\n'));
process.exitCode = results.every((r) => r.met) ? 0 : 1;
