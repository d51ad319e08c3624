/**
 * @module test/fuzz/confirm: does a finding's reproducer fail on its own? Each example is sent
 * again, one at a time, to a fresh target (new process, new store) with fresh seeded actions.
 * One that passes there depended on what earlier requests left behind (a stored action that
 * breaks every later listing, say): its reproducer needs those requests too.
 */
import { emptyReport, mergeLog, recover, runBatch } from './engine.ts';
import type { Finding } from './findings.ts';
import { seedActions } from './seeding.ts';
import { keepAliveAgent } from './send.ts';
import type { Target } from './targets.ts';
import { fuzzTokens } from './tokens.ts';

/** For each of the first `max` findings: true when its example alone fails the same oracle again. */
export async function confirmAlone(
  target: Target,
  findings: readonly Finding[],
  options: { timeoutMs: number; max?: number },
): Promise<Map<Finding, boolean>> {
  const verdicts = new Map<Finding, boolean>();
  const tokens = await fuzzTokens();
  const agent = keepAliveAgent(1);
  const report = emptyReport(target.name, 0);
  let server = await target.start();
  try {
    for (const finding of findings.slice(0, options.max ?? 30)) {
      const before = report.counts[finding.oracle];
      const fillers = { tokens, ids: await seedActions(server.url, tokens, agent) };
      const context = { target, server, fillers, report, options: { concurrency: 1, ...options }, agent };
      const { suspects } = await runBatch(context, [finding.example.request], finding.example.index);
      if (!server.alive()) {
        mergeLog(report, server);
        server = await recover(target, report, suspects, tokens, options);
      }
      verdicts.set(finding, report.counts[finding.oracle] > before);
    }
  } finally {
    agent.destroy();
    await server.stop();
  }
  return verdicts;
}
