/**
 * @module test/fuzz/report: a target's results as text: the counts the issue asks for (5xx,
 * hangs, crashes, non-JSON errors) and the other oracles, the statuses seen, the provider's
 * own warnings and errors, and each deduplicated finding with its reproducer.
 */
import type { TargetReport } from './engine.ts';
import type { Finding } from './findings.ts';
import type { Oracle } from './oracles.ts';
import { reproducer } from './reproducer.ts';

const LABELS: Record<Oracle, string> = {
  'server-error': '5xx',
  hang: 'hangs',
  crash: 'crashes',
  'non-json-error': 'non-JSON errors',
  'no-answer': 'no answer (connection closed)',
  'auth-bypass': 'auth bypasses',
  'bad-success': 'non-JSON 2xx',
  'lost-action': 'lost actions',
};

/** Failures of any oracle. */
export const failures = (report: TargetReport) => Object.values(report.counts).reduce((a, b) => a + b, 0);

export function summary(report: TargetReport): string[] {
  const seconds = report.ms / 1000;
  const counts = (Object.keys(LABELS) as Oracle[]).map((o) => `${LABELS[o]} ${report.counts[o]}`).join(' | ');
  const statuses = Object.entries(report.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  return [
    `${report.target}: ${report.generated} requests (${report.sent} sent, ${report.skipped} left to the host, ` +
      `${report.unsendable} unsendable) + ${report.readBacks} read-backs in ${seconds.toFixed(1)} s ` +
      `(${Math.round(report.sent / Math.max(seconds, 0.001))} req/s), seed ${report.seed}, ${report.restarts} restarts`,
    `  ${counts}`,
    `  statuses ${statuses}`,
  ];
}

/** The findings (most frequent first) with reproducers, and the provider's log; `alone` from confirm.ts when known. */
export function details(
  report: TargetReport,
  maxFindings = 40,
  findings = report.findings.list(),
  alone?: ReadonlyMap<Finding, boolean>,
): string[] {
  const lines: string[] = [];
  findings.slice(0, maxFindings).forEach((finding, n) => {
    lines.push(...findingLines(finding, n + 1, report, alone?.get(finding)));
  });
  if (findings.length > maxFindings) lines.push(`  ... and ${findings.length - maxFindings} more findings`);
  const log = [...report.log.entries()].sort((a, b) => b[1] - a[1]);
  if (log.length > 0) {
    lines.push('  provider log (warnings and errors):');
    for (const [line, n] of log.slice(0, 15)) lines.push(`    ${n} x ${line}`);
  }
  return lines;
}

function findingLines(finding: Finding, n: number, report: TargetReport, alone: boolean | undefined): string[] {
  const cause =
    finding.feature === undefined
      ? 'no single feature explains these'
      : `feature ${finding.feature} (${Math.round(finding.rate * 100)}% of such requests fail)`;
  const repro = reproducer(finding.example.request, {
    target: report.target,
    seed: report.seed,
    index: finding.example.index,
  });
  const replayed =
    alone === undefined
      ? ''
      : alone
        ? '; fails alone on a fresh target'
        : '; passes alone on a fresh target: it needs what earlier requests stored';
  return [
    `  #${n} [${LABELS[finding.oracle]}] ${finding.signature}: ${finding.count} requests; ${cause}${replayed}`,
    `     on ${finding.operations.slice(0, 8).join(', ')}${finding.operations.length > 8 ? ', ...' : ''}`,
    `     answer: ${finding.example.answer.replaceAll('\n', ' ')}`,
    ...(finding.cause === undefined ? [] : [`     provider log: ${finding.cause}`]),
    ...repro.map((line) => `     ${line}`),
  ];
}
