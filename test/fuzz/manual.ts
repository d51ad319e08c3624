/**
 * @module test/fuzz/manual: the two ways a person follows up a finding: `--replay I` sends
 * request I of a seed alone to a fresh target and judges it; `--serve TARGET` starts a target
 * with seeded actions and prints the `export` lines the reproducers' curl commands expect.
 */
import { once } from 'node:events';
import { BATCH, batchRequests, emptyReport, mergeLog, recover, runBatch } from './engine.ts';
import { details, failures, summary } from './report.ts';
import { reproducer } from './reproducer.ts';
import type { FuzzRequest } from './request.ts';
import { seedActions } from './seeding.ts';
import { keepAliveAgent } from './send.ts';
import type { Target } from './targets.ts';
import { fuzzTokens } from './tokens.ts';

/** Send request `index` of `seed` to a fresh `target`; prints it and the verdict, resolves to the failures. */
export async function replay(
  target: Target,
  seed: number,
  index: number,
  options: { timeoutMs: number },
): Promise<number> {
  const request = batchRequests(seed, Math.floor(index / BATCH))[index % BATCH] as FuzzRequest;
  const report = emptyReport(target.name, seed);
  const tokens = await fuzzTokens();
  const agent = keepAliveAgent(1);
  let server = await target.start();
  try {
    console.log(`${target.name}: request ${index} of seed ${seed}`);
    for (const line of reproducer(request, { target: target.name, seed, index })) console.log(`  ${line}`);
    const fillers = { tokens, ids: await seedActions(server.url, tokens, agent) };
    const context = { target, server, fillers, report, options: { concurrency: 1, ...options }, agent };
    const { suspects } = await runBatch(context, [request], index);
    if (!server.alive()) {
      mergeLog(report, server);
      server = await recover(target, report, suspects, tokens, options);
    }
    mergeLog(report, server);
    console.log([...summary(report), ...details(report)].join('\n'));
    return failures(report);
  } finally {
    agent.destroy();
    await server.stop();
    await target.dispose();
  }
}

/** Start `target` with seeded actions and wait for Ctrl-C, printing what the reproducers' variables need. */
export async function serveForHand(target: Target): Promise<void> {
  const tokens = await fuzzTokens();
  const server = await target.start();
  const agent = keepAliveAgent(1);
  const ids = await seedActions(server.url, tokens, agent);
  agent.destroy();
  console.log(`export URL='${server.url}'`);
  for (const [name, token] of Object.entries(tokens)) {
    console.log(`export TOKEN_${name.toUpperCase().replaceAll('-', '_')}='${token}'`);
  }
  for (const [n, id] of ids.entries()) console.log(`export ID_${n}='${id}'`);
  console.error(`${target.name} serving at ${server.url}; Ctrl-C stops it`);
  await once(process, 'SIGINT');
  await server.stop();
  await target.dispose();
}
