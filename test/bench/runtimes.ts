/**
 * @module test/bench/runtimes: issue-4 figures, in one run on this machine.
 *
 *   npm run bench:runtimes      (= npx tsx test/bench/runtimes.ts; needs `wrk`: apt-get install wrk)
 *
 * 1. The Worker bundle of examples/worker.ts (esbuild, minified), raw and gzipped.
 * 2. Time from process start to the first successful response (GET / answering 200), for the
 *    Node, Bun and Deno examples and for workerd (through miniflare, which adds its own start).
 * 3. Requests per second for authenticated `GET /{id}/status` on Node, Bun and Deno, without a
 *    prefix and under `/skeleton`, each as a
 *    ratio to a bare Hono route answering the same JSON body on the same runtime in the same
 *    process (test/bench/runtime-server.ts), measured with wrk (1 thread, 20 connections) so the
 *    load generator costs one core and the server gets the other.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import { bundleWorker, startWorker } from '../support/hosts.ts';
import { exampleEnv } from '../support/identities.ts';
import { BIN, ROOT, spawnHost } from '../support/processes.ts';
import { bundledServer } from './bundle.ts';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function bundleSize(): Promise<{ raw: number; gzip: number }> {
  const bytes = await bundleWorker('examples/worker.ts');
  return { raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength };
}

async function startup(): Promise<Record<string, number>> {
  const times: Record<string, number[]> = { node: [], bun: [], deno: [], workerd: [] };
  const env = { STORE: 'memory' };
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, command, args] of [
      ['node', process.execPath, ['--import', 'tsx', 'examples/node.ts']],
      ['bun', BIN('bun'), ['examples/bun.ts']],
      ['deno', BIN('deno'), ['run', '-A', 'examples/deno.ts']],
    ] as const) {
      const host = await spawnHost(command, [...args], env);
      const started = performance.now() - host.startedIn;
      // The "listening" line comes first; the first 200 is what a user waits for.
      while ((await fetch(host.url).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 5));
      times[name]?.push(performance.now() - started);
      await host.stop();
    }
    const started = performance.now();
    const worker = await startWorker('examples/worker.ts', await exampleEnv());
    while ((await fetch(worker.url).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 5));
    times['workerd']?.push(performance.now() - started);
    await worker.stop();
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

function wrk(url: string, token?: string): number {
  const args = ['-t1', '-c20', `-d${DURATION}s`, ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), url];
  const out = execFileSync('wrk', args, { encoding: 'utf8' });
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} failed responses for ${url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

async function throughput(
  runtime: 'node' | 'bun' | 'deno',
): Promise<{ bare: number; provider: number; prefixed: number }> {
  const [command, args] =
    runtime === 'node'
      ? [process.execPath, [await bundledServer('test/bench/runtime-server.ts')]]
      : runtime === 'bun'
        ? [BIN('bun'), ['test/bench/runtime-server.ts']]
        : [BIN('deno'), ['run', '-A', 'test/bench/runtime-server.ts']];
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DATA_DIR: '' },
  });
  const info = await new Promise<{ bare: number; provider: number; prefixed: number; token: string; actionId: string }>(
    (resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`${runtime} bench server exited with ${code}`)));
    },
  );
  const bareUrl = `http://127.0.0.1:${info.bare}/status`;
  const providerUrl = `http://127.0.0.1:${info.provider}/${info.actionId}/status`;
  const prefixedUrl = `http://127.0.0.1:${info.prefixed}/skeleton/${info.actionId}/status`;
  wrk(bareUrl);
  wrk(providerUrl, info.token); // warm-up of all three
  wrk(prefixedUrl, info.token);
  const bare: number[] = [];
  const provider: number[] = [];
  const prefixed: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    bare.push(wrk(bareUrl));
    provider.push(wrk(providerUrl, info.token));
    prefixed.push(wrk(prefixedUrl, info.token));
  }
  child.kill('SIGKILL');
  return { bare: median(bare), provider: median(provider), prefixed: median(prefixed) };
}

const size = await bundleSize();
console.log(
  `worker bundle: ${(size.raw / 1024).toFixed(1)} KiB minified, ${(size.gzip / 1024).toFixed(1)} KiB gzipped (target <= 100 KB)`,
);
const starts = await startup();
console.log('start to first 200 (median of', ROUNDS, 'runs, ms):', starts);
const rows: string[] = [];
for (const runtime of ['node', 'bun', 'deno'] as const) {
  const { bare, provider, prefixed } = await throughput(runtime);
  rows.push(
    `| ${runtime} | ${Math.round(bare)} | ${Math.round(provider)} | ${(provider / bare).toFixed(2)} | ` +
      `${Math.round(prefixed)} | ${(prefixed / bare).toFixed(2)} | ${Math.round(starts[runtime] ?? NaN)} |`,
  );
  console.log(rows.at(-1));
}
const version = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]?.trim();
console.log(`
Node ${process.version}, Bun ${version(BIN('bun'), ['--version'])}, ${version(BIN('deno'), ['--version'])}; ${cpus()[0]?.model} x${cpus().length}
Command: npm run bench:runtimes (wrk -t1 -c20, ${DURATION} s x ${ROUNDS} rounds, median)

| runtime | bare Hono req/s | GET /{id}/status req/s (jwtAuth, memory) | ratio | under /skeleton req/s | ratio | start to first 200 (ms) |
|---|---|---|---|---|---|---|
${rows.join('\n')}
| workerd (miniflare) | | | | | | ${Math.round(starts['workerd'] ?? NaN)} |

Worker bundle (examples/worker.ts, esbuild --minify): ${(size.raw / 1024).toFixed(1)} KiB, gzipped ${(size.gzip / 1024).toFixed(1)} KiB (target <= 100 KB)
`);
process.exit(0);
