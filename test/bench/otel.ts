/**
 * @module test/bench/otel: what OpenTelemetry costs a provider: status and run on the memory
 * and the SQLite store, without the `telemetry` option and with `openTelemetry()` on the SDK
 * registered as production would (BatchSpanProcessor, periodic metric reader, AsyncLocalStorage
 * context manager) with exporters that drop everything, against the bare Hono GET and POST of
 * core.ts. With `--base REV`, also the same provider built from the tree of REV (a commit before
 * the opentelemetry module): that OpenTelemetry absent changes nothing.
 *
 *   npm run bench:otel                 (= npx tsx test/bench/otel.ts)
 *   npx tsx test/bench/otel.ts --base 45206ea --duration 5 --rounds 3 --warmup 2 --connections 32
 *
 * As in core.ts: each server in its own child process (test/bench/server.ts, bundled by
 * esbuild, run by plain `node`), one under load at a time, scenarios interleaved round by round,
 * each figure the median of the rounds; the server's CPU time per request is the steadier figure.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { ROOT } from '../support/processes.ts';
import { bundledServer } from './bundle.ts';
import type { FromChild, ToChild } from './server.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    base: { type: 'string' },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);

const SERVER_JS = await bundledServer('test/bench/server.ts');

/** The bench server of another commit, bundled from its tree (its own tsconfig paths, our node_modules). */
async function baseServer(rev: string): Promise<{ file: string; commit: string }> {
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', rev], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'gap-bench-base-'));
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${commit} | tar -x -C "${dir}"`]);
  const file = `${ROOT}node_modules/.cache/globus-action-provider-bench/base_${commit}_server.mjs`;
  await build({
    entryPoints: [join(dir, 'test/bench/server.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  rmSync(dir, { recursive: true, force: true });
  return { file, commit };
}

interface Child {
  port: number;
  token: string | undefined;
  request<T extends FromChild['type']>(message: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>>;
  stop(): Promise<void>;
}

async function startChild(script: string, mode: 'hono' | 'provider', env: Record<string, string>): Promise<Child> {
  const child: ChildProcess = fork(script, [mode], {
    cwd: ROOT,
    execArgv: ['--expose-gc'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`${mode} server exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
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

interface Sample {
  rps: number;
  cpu: number;
  p50: number;
  p99: number;
}

interface Scenario {
  name: string;
  server: Child;
  path: string;
  options?: () => Partial<autocannon.Options>;
  expect: number;
  samples: Sample[];
}

async function load(scenario: Scenario, seconds: number): Promise<Sample> {
  const { server } = scenario;
  const before = await server.request({ type: 'cpu' }, 'cpu');
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${scenario.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    ...scenario.options?.(),
  });
  const after = await server.request({ type: 'cpu' }, 'cpu');
  const unexpected = Object.entries(result.statusCodeStats ?? {}).filter(
    ([code, stats]) => Number(code) !== scenario.expect && (stats?.count ?? 0) > 0,
  );
  if (result.errors > 0 || result.timeouts > 0 || unexpected.length > 0)
    throw new Error(
      `${scenario.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${JSON.stringify(unexpected)}`,
    );
  const requests = result.requests.total;
  return {
    rps: requests / (result.duration || seconds),
    cpu: (after.micros - before.micros) / requests,
    p50: result.latency.p50,
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
const load1 = () => loadavg()[0]?.toFixed(1) ?? '?';

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const loadBefore = load1();

type Store = 'memory' | 'sqlite';
type Variant = 'none' | 'sdk' | 'base';
const STORES: Store[] = ['memory', 'sqlite'];
const base = args.base === undefined ? undefined : await baseServer(args.base);
const VARIANTS: Variant[] = base === undefined ? ['none', 'sdk'] : ['base', 'none', 'sdk'];
const label: Record<Variant, string> = {
  base: `no telemetry, ${base?.commit ?? 'base'}`,
  none: 'no telemetry',
  sdk: 'OpenTelemetry SDK, no-op exporters',
};

log(`starting ${STORES.length * VARIANTS.length} provider processes (${VARIANTS.map((v) => label[v]).join('; ')})`);
const providers = new Map<string, Child>();
for (const store of STORES)
  for (const variant of VARIANTS)
    providers.set(
      `${store} ${variant}`,
      await startChild(variant === 'base' ? (base?.file as string) : SERVER_JS, 'provider', {
        BENCH_STORE: store,
        BENCH_OTEL: variant === 'sdk' ? 'sdk' : 'none',
      }),
    );
const provider = (store: Store, variant: Variant) => providers.get(`${store} ${variant}`) as Child;
const auth = (child: Child) => ({ authorization: `Bearer ${child.token as string}` });

let runCounter = 0;
const runBody = () => JSON.stringify({ request_id: `bench-${++runCounter}`, body: { input_string: 'hello' } });

/** An action to read on `child`, and the bodies the bare routes answer. */
async function probe(child: Child) {
  const url = `http://127.0.0.1:${child.port}`;
  const created = await fetch(`${url}/run`, {
    method: 'POST',
    headers: { ...auth(child), 'content-type': 'application/json' },
    body: runBody(),
  });
  const runText = await created.text();
  if (created.status !== 202) throw new Error(`probe: POST /run ${created.status}`);
  const actionId = (JSON.parse(runText) as { action_id: string }).action_id;
  const status = await fetch(`${url}/${actionId}/status`, { headers: auth(child) });
  const statusText = await status.text();
  if (status.status !== 200) throw new Error(`probe: status ${status.status}`);
  return { actionId, runText, statusText };
}
const actions = new Map<Child, string>();
let bodies: { runText: string; statusText: string } | undefined;
for (const child of providers.values()) {
  const probed = await probe(child);
  actions.set(child, probed.actionId);
  bodies ??= probed;
}
const { runText, statusText } = bodies as { runText: string; statusText: string };
log('starting the bare Hono process');
const hono = await startChild(SERVER_JS, 'hono', {
  BENCH_ROUTES: JSON.stringify({ '/status': JSON.parse(statusText) }),
  BENCH_POST_BODY: runText,
});

const scenario = (s: Omit<Scenario, 'samples'>): Scenario => ({ ...s, samples: [] });
const post = (headers: Record<string, string>) => () => ({
  requests: [
    {
      method: 'POST' as const,
      headers: { ...headers, 'content-type': 'application/json' },
      setupRequest: (request: autocannon.Request) => ({ ...request, body: runBody() }),
    },
  ],
});
const bareStatus = scenario({
  name: `bare Hono GET (${Buffer.byteLength(statusText)} B)`,
  server: hono,
  path: '/status',
  expect: 200,
});
const barePost = scenario({ name: 'bare Hono POST', server: hono, path: '/post', expect: 202, options: post({}) });
const status = (store: Store, variant: Variant) => {
  const child = provider(store, variant);
  return scenario({
    name: `status (${store}, ${label[variant]})`,
    server: child,
    path: `/${actions.get(child) as string}/status`,
    expect: 200,
    options: () => ({ headers: auth(child) }),
  });
};
const run = (store: Store, variant: Variant) => {
  const child = provider(store, variant);
  return scenario({
    name: `run (${store}, ${label[variant]})`,
    server: child,
    path: '/run',
    expect: 202,
    options: post(auth(child)),
  });
};

interface Group {
  baseline: Scenario;
  by: Map<Variant, Scenario>;
}
const groups: Group[] = [];
for (const store of STORES) {
  groups.push({ baseline: bareStatus, by: new Map(VARIANTS.map((v) => [v, status(store, v)])) });
  groups.push({ baseline: barePost, by: new Map(VARIANTS.map((v) => [v, run(store, v)])) });
}
const order: Scenario[] = [];
for (const group of groups) {
  if (!order.includes(group.baseline)) order.push(group.baseline);
  for (const s of group.by.values()) order.push(s);
}

log(`warm-up: ${WARMUP} s per scenario, ${order.length} scenarios, ${CONNECTIONS} connections`);
for (const s of order) await load(s, WARMUP);
for (let round = 1; round <= ROUNDS; round++) {
  for (const s of order) {
    const sample = await load(s, DURATION);
    s.samples.push(sample);
    log(
      `round ${round}/${ROUNDS}  ${s.name.padEnd(52)} ${fmt(sample.rps).padStart(7)} req/s  ${sample.cpu.toFixed(1).padStart(6)} µs CPU/req  p50 ${sample.p50} ms  p99 ${sample.p99} ms`,
    );
  }
}
await Promise.all([hono.stop(), ...[...providers.values()].map((child) => child.stop())]);

const figures = (s: Scenario) => {
  const of = (key: keyof Sample) => median(s.samples.map((sample) => sample[key]));
  return { rps: of('rps'), cpu: of('cpu'), p50: of('p50'), p99: of('p99') };
};
const command = `npx tsx test/bench/otel.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const lines = [
  '',
  `Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${process.platform}/${process.arch}; load average ${loadBefore} before, ${load1()} after`,
  `Command: \`${command}\` (${CONNECTIONS} connections; median of ${ROUNDS} × ${DURATION} s after ${WARMUP} s warm-up)`,
  '',
  '| Scenario | req/s | p50 ms | p99 ms | server CPU µs/req | ratio to bare Hono | ratio to no telemetry | CPU µs/req over no telemetry |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const b of [bareStatus, barePost]) {
  const f = figures(b);
  lines.push(`| ${b.name} | ${fmt(f.rps)} | ${f.p50} | ${f.p99} | ${f.cpu.toFixed(0)} | (baseline) | | |`);
}
for (const group of groups) {
  const bare = figures(group.baseline);
  const none = figures(group.by.get('none') as Scenario);
  for (const [variant, s] of group.by) {
    const f = figures(s);
    const vsNone = variant === 'none' ? '' : (f.rps / none.rps).toFixed(2);
    const extra = variant === 'none' ? '' : `${f.cpu - none.cpu >= 0 ? '+' : ''}${(f.cpu - none.cpu).toFixed(1)}`;
    lines.push(
      `| ${s.name} | ${fmt(f.rps)} | ${f.p50} | ${f.p99} | ${f.cpu.toFixed(0)} | ${(f.rps / bare.rps).toFixed(2)} | ${vsNone} | ${extra} |`,
    );
  }
}
lines.push(
  '',
  'Status: GET /{id}/status with a dev JWT (cached after the first request): with telemetry, a server span and a `store get` span, the request duration recorded, one token cache lookup counted.',
  'Run: POST /run with a fresh request_id: a server span, its store spans, the same metrics.',
  `Total time: ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log(lines.join('\n'));
