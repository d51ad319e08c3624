/**
 * @module check/report: a check report as text for a person: checks by section, each with what
 * it rests on; for a failure, why and the requests and answers behind it (tokens redacted
 * already); the counts, and the actions made and released.
 */
import type { CheckReport, CheckResult, Exchange } from './types.ts';

const LABELS = { pass: 'PASS', fail: 'FAIL', 'not-applicable': 'N/A ' } as const;
/** Headers worth showing: what the checks read. */
const SHOWN_HEADERS = /^(authorization|content-type|origin|allow|access-control-|www-authenticate)/;
const MAX_BODY = 400;

const clip = (text: string): string => {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length > MAX_BODY ? `${flat.slice(0, MAX_BODY - 1)}…` : flat;
};

function exchangeLines(exchange: Exchange, indent: string): string[] {
  const lines: string[] = [];
  const headers = (record: Record<string, string>) =>
    Object.entries(record)
      .filter(([name]) => SHOWN_HEADERS.test(name))
      .map(([name, value]) => `${indent}  ${name}: ${value}`);
  const { request, answer } = exchange;
  lines.push(`${indent}> ${request.method} ${request.url}`, ...headers(request.headers));
  if (request.body !== undefined) lines.push(`${indent}  ${clip(request.body)}`);
  if (answer === undefined) lines.push(`${indent}< no answer: ${exchange.error ?? 'unknown error'}`);
  else {
    lines.push(`${indent}< ${answer.status}`, ...headers(answer.headers));
    if (answer.body !== '') lines.push(`${indent}  ${clip(answer.body)}`);
  }
  return lines;
}

/** A check in two lines (what, and what it rests on), then why it failed or does not apply, and the exchanges. */
function checkLines(check: CheckResult, width: number): string[] {
  const under = ' '.repeat(width + 10);
  const lines = [`  ${LABELS[check.outcome]}  ${check.id.padEnd(width)}  ${check.title}`, `${under}${check.basis}`];
  if (check.reason !== undefined) lines.push(`${under}${check.outcome === 'fail' ? 'why' : 'n/a'}: ${check.reason}`);
  for (const exchange of check.exchanges ?? []) lines.push(...exchangeLines(exchange, under));
  return lines;
}

/**
 * The report as text, ending in a newline.
 *
 * @example
 * ```ts
 * process.stdout.write(formatReport(await checkProvider({ url, token })))
 * ```
 */
export function formatReport(report: CheckReport): string {
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = [`globus-action-provider check ${report.url}`];
  if (report.provider !== undefined)
    lines.push(`${report.provider.title ?? '(no title)'}, scope ${report.provider.scope ?? '(none)'}`);
  let section: string | undefined;
  for (const check of report.checks) {
    if (check.section !== section) {
      section = check.section;
      lines.push('', section);
    }
    lines.push(...checkLines(check, width));
  }
  const { passed, failed, notApplicable, requests, requestBound } = report.summary;
  const { created, released, remaining } = report.actions;
  lines.push(
    '',
    `${report.checks.length} checks: ${passed} passed, ${failed} failed, ${notApplicable} not applicable.`,
    `${requests} requests (at most ${requestBound}); ${created.length} actions created, ${released.length} released.`,
  );
  if (remaining.length > 0)
    lines.push(`Not released (still running, refused, or kept by the provider): ${remaining.join(', ')}`);
  lines.push(failed === 0 ? 'OK: no check failed.' : `FAILED: ${failed} checks failed.`, '');
  return lines.join('\n');
}
