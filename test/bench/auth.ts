/**
 * @module test/bench/auth: authenticated `GET /{id}/status` with globusAuth on a warm cache
 * against the same with jwtAuth, as a ratio in one run, plus cold-token latency.
 *
 *   npm run bench:auth      (= npx tsx test/bench/auth.ts; needs `wrk`: apt-get install wrk)
 *
 * The server (test/bench/auth-server.ts) runs as esbuild-bundled JavaScript in a child process,
 * with a fake Globus on a real port of the same machine; wrk (1 thread, 20 connections) loads
 * the two providers in alternation.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { ROOT } from '../support/processes.ts';
import { bundledServer } from './bundle.ts';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const outfile = await bundledServer('test/bench/auth-server.ts');
const child = spawn(process.execPath, [outfile], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, DATA_DIR: '' },
});
const lines: string[] = [];
let buffer = '';
child.stdout.on('data', (chunk: Buffer) => {
  buffer += chunk.toString();
  const parts = buffer.split('\n');
  buffer = parts.pop() ?? '';
  lines.push(...parts.filter((l) => l.startsWith('{')));
});
const nextLine = async (): Promise<string> => {
  while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  return lines.shift() as string;
};
type Target = { url: string; token: string };
const info = JSON.parse(await nextLine()) as {
  globus: Target;
  jwt: Target;
  coldLatency: Record<string, { p50: number; p99: number }>;
  introspections: number;
  fresh: { globus: string[]; jwt: string[] };
};

/**
 * A burst of new callers: each of the fresh tokens sent once, 32 requests in flight, so every
 * request is a token this provider has never seen (an introspection, or a JWT verification).
 */
async function burst(target: Target, tokens: string[]): Promise<{ p50: number; p99: number; max: number }> {
  let next = 0;
  const result = await autocannon({
    url: target.url,
    connections: 32,
    amount: tokens.length,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`burst: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max };
}

function wrk(target: Target): number {
  const out = execFileSync(
    'wrk',
    ['-t1', '-c20', `-d${DURATION}s`, '-H', `Authorization: Bearer ${target.token}`, target.url],
    { encoding: 'utf8' },
  );
  const failed = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (failed) throw new Error(`wrk saw ${failed[1]} failed responses for ${target.url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

wrk(info.globus);
wrk(info.jwt);
const rps = { globus: [] as number[], jwt: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  rps.globus.push(wrk(info.globus));
  rps.jwt.push(wrk(info.jwt));
}
child.kill('SIGUSR2');
const after = JSON.parse(await nextLine()) as { introspections: number };
const bursts = { globus: await burst(info.globus, info.fresh.globus), jwt: await burst(info.jwt, info.fresh.jwt) };
child.kill('SIGUSR2');
const afterBurst = JSON.parse(await nextLine()) as { introspections: number };
child.kill('SIGKILL');
const g = median(rps.globus);
const j = median(rps.jwt);
console.log(`
Node ${process.version}; ${cpus()[0]?.model} x${cpus().length}
Command: npm run bench:auth (wrk -t1 -c20, ${DURATION} s x ${ROUNDS} rounds, median; fake Globus over loopback HTTP)

| authenticator | GET /{id}/status req/s (warm cache) | ratio to jwtAuth | cold token p50 / p99 (ms) |
|---|---|---|---|
| jwtAuth (ES256, local key) | ${Math.round(j)} | 1.00 | ${info.coldLatency['jwt']?.p50.toFixed(2)} / ${info.coldLatency['jwt']?.p99.toFixed(2)} |
| globusAuth (introspection cached 30 s) | ${Math.round(g)} | ${(g / j).toFixed(2)} | ${info.coldLatency['globus']?.p50.toFixed(2)} / ${info.coldLatency['globus']?.p99.toFixed(2)} |

A burst of ${info.fresh.globus.length} new callers (each token sent once, 32 in flight), p50 / p99 / max (ms):
- globusAuth: ${bursts.globus.p50} / ${bursts.globus.p99} / ${bursts.globus.max} (${afterBurst.introspections - after.introspections} introspections)
- jwtAuth: ${bursts.jwt.p50} / ${bursts.jwt.p99} / ${bursts.jwt.max}

Introspection calls during the warm-cache load: ${after.introspections - info.introspections} (the ${ROUNDS * 2 + 2} wrk runs of ${DURATION} s reuse one token; the cache holds it 30 s)
`);
process.exit(0);
