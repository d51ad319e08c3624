/**
 * @module test/fuzz/engine: one target fuzzed: batches of generated requests, a few in flight
 * at once, every answer judged (oracles.ts), every 202 from run read back by its creator, and a
 * dead child noticed, restarted and its killer found by replaying the suspects one at a time.
 * Request `i` of a seed is always the same request: batch `i / BATCH` is sampled from a seed
 * of its own, so `--replay i` can regenerate it alone.
 */
import fc from 'fast-check';
import { type Example, Findings } from './findings.ts';
import { fuzzRequest } from './generators/requests.ts';
import { jsonOf, judge, ORACLES, type Oracle, type Violation } from './oracles.ts';
import { type Fillers, type FuzzRequest, fill, type WireRequest } from './request.ts';
import { seedActions } from './seeding.ts';
import { keepAliveAgent, type Outcome, send } from './send.ts';
import type { Target, TargetProcess } from './targets.ts';
import { fuzzTokens } from './tokens.ts';

/** Requests per batch: fixed, so that request numbers mean the same thing in every run. */
export const BATCH = 1000;

export interface FuzzOptions {
  seed: number;
  requests: number;
  concurrency: number;
  /** An answer later than this is a hang. */
  timeoutMs: number;
  onBatch?: (report: TargetReport) => void;
}

export interface TargetReport {
  target: string;
  seed: number;
  /** Requests generated (sent, skipped or unsendable). */
  generated: number;
  sent: number;
  /** Requests about the HTTP server itself, left to the host under Express. */
  skipped: number;
  /** Requests Node's client would not send (none are expected). */
  unsendable: number;
  /** Follow-up status reads of newly run actions. */
  readBacks: number;
  counts: Record<Oracle, number>;
  statuses: Record<string, number>;
  restarts: number;
  ms: number;
  findings: Findings;
  /** What the provider logged (warnings and errors), over every process of the run. */
  log: Map<string, number>;
}

/** The seed of batch `b` of run `seed` (an int32, as fast-check wants). */
export const batchSeed = (seed: number, b: number) => (Math.imul(seed, 0x9e3779b1) + b) | 0;

/** The requests of batch `b`. */
export const batchRequests = (seed: number, b: number, count = BATCH): FuzzRequest[] =>
  fc.sample(fuzzRequest, { seed: batchSeed(seed, b), numRuns: count });

export async function fuzzTarget(target: Target, options: FuzzOptions): Promise<TargetReport> {
  const started = performance.now();
  const report = emptyReport(target.name, options.seed);
  const tokens = await fuzzTokens();
  const agent = keepAliveAgent(options.concurrency);
  let server = await target.start();
  try {
    for (let b = 0; b * BATCH < options.requests; b++) {
      let requests = batchRequests(options.seed, b, Math.min(BATCH, options.requests - b * BATCH));
      let first = b * BATCH;
      // A crash ends a pass early: the process is started again and the batch goes on from there.
      while (requests.length > 0) {
        if (!server.alive()) server = await recover(target, report, new Map(), tokens, options);
        const fillers: Fillers = { tokens, ids: await seedActions(server.url, tokens, agent) };
        const { suspects, started: done } = await runBatch(
          { target, server, fillers, report, options, agent },
          requests,
          first,
        );
        if (!server.alive()) {
          mergeLog(report, server);
          server = await recover(target, report, suspects, tokens, options);
        }
        requests = requests.slice(done);
        first += done;
      }
      report.ms = Math.round(performance.now() - started);
      options.onBatch?.(report);
    }
  } finally {
    mergeLog(report, server);
    agent.destroy();
    await server.stop();
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

export function emptyReport(target: string, seed: number): TargetReport {
  const counts = Object.fromEntries(ORACLES.map((o) => [o, 0])) as Record<Oracle, number>;
  return {
    target,
    seed,
    generated: 0,
    sent: 0,
    skipped: 0,
    unsendable: 0,
    readBacks: 0,
    counts,
    statuses: {},
    restarts: 0,
    ms: 0,
    findings: new Findings(),
    log: new Map(),
  };
}

export function mergeLog(report: TargetReport, server: TargetProcess): void {
  for (const [line, n] of server.log) report.log.set(line, (report.log.get(line) ?? 0) + n);
  server.log.clear();
}

/** Count each violation of one request; the request is one finding, under its first oracle. */
export function record(report: TargetReport, violations: Violation[], example: Example): void {
  const [first, ...rest] = violations;
  if (first === undefined) return;
  for (const v of violations) report.counts[v.oracle]++;
  const also = rest.map((v) => `${v.oracle}: ${v.signature}`);
  const signature = also.length === 0 ? first.signature : `${first.signature} (also ${also.join('; ')})`;
  report.findings.add({ oracle: first.oracle, signature, ...(example.cause ? { cause: example.cause } : {}) }, example);
}

/** A short text of an outcome, for reproducers. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'answer') {
    const type = String(outcome.headers['content-type'] ?? 'no content-type');
    const text = outcome.body.toString('utf8');
    return `${outcome.status} (${type}) ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
  }
  if (outcome.kind === 'error') return `${outcome.code}: ${outcome.message}`;
  if (outcome.kind === 'hang') return `no answer in ${outcome.ms} ms`;
  return outcome.kind;
}

/** What a batch runs against. */
export interface BatchContext {
  target: Target;
  server: TargetProcess;
  fillers: Fillers;
  report: TargetReport;
  options: Pick<FuzzOptions, 'concurrency' | 'timeoutMs'>;
  agent: ReturnType<typeof keepAliveAgent>;
}

/**
 * Send `requests` (numbered from `first`) with a bounded number in flight, judging each.
 * Resolves to how many were started (all, unless the process died) and the suspects of a
 * crash (none when the process lived).
 */
export function runBatch(
  context: BatchContext,
  requests: FuzzRequest[],
  first: number,
): Promise<{ started: number; suspects: Map<number, FuzzRequest> }> {
  return new BatchRun(context).all(requests, first);
}

/** One batch on one server process. */
class BatchRun {
  readonly #inFlight = new Map<number, FuzzRequest>();
  readonly #suspects = new Map<number, FuzzRequest>();
  /** Failures held until the batch ends, when the provider's log of their causes has arrived. */
  readonly #pending: [Violation[], Example][] = [];

  readonly target: Target;
  readonly server: TargetProcess;
  readonly fillers: Fillers;
  readonly report: TargetReport;
  readonly options: BatchContext['options'];
  readonly agent: BatchContext['agent'];

  constructor(context: BatchContext) {
    ({
      target: this.target,
      server: this.server,
      fillers: this.fillers,
      report: this.report,
      options: this.options,
      agent: this.agent,
    } = context);
    // Whatever is in flight when the process dies may have killed it.
    void this.server.exited.then(() => {
      for (const [i, r] of this.#inFlight) this.#suspects.set(i, r);
    });
  }

  async all(requests: FuzzRequest[], first: number): Promise<{ started: number; suspects: Map<number, FuzzRequest> }> {
    let next = 0;
    const worker = async () => {
      while (next < requests.length && this.server.alive()) {
        const i = next++;
        await this.one(first + i, requests[i] as FuzzRequest);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
    if (this.#pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100)); // stderr catches up
    for (const [violations, example] of this.#pending) {
      const cause = this.server.causes.get(example.index);
      record(this.report, violations, cause === undefined ? example : { ...example, cause });
    }
    this.server.causes.clear();
    return { started: next, suspects: this.#suspects };
  }

  async one(index: number, generated: FuzzRequest): Promise<void> {
    this.report.generated++;
    const wire = fill(generated, this.fillers);
    const request = withHeaderSize(generated, wire);
    if (request.serverLevel && this.target.hosted) {
      this.report.skipped++;
      return;
    }
    this.#inFlight.set(index, request);
    const tagged = { ...wire, headers: [...wire.headers, ['x-fuzz-id', String(index)] as [string, string]] };
    const outcome = await send(tagged, this.sendOptions());
    if (outcome.kind === 'error' && (await died(this.server))) return; // a suspect, judged in recover()
    this.#inFlight.delete(index);
    if (outcome.kind === 'unsendable') {
      this.report.unsendable++;
      return;
    }
    this.report.sent++;
    this.report.findings.sent(request);
    const status = outcome.kind === 'answer' ? String(outcome.status) : outcome.kind;
    this.report.statuses[status] = (this.report.statuses[status] ?? 0) + 1;
    const example = { index, request, answer: describeOutcome(outcome) };
    const violations = judge(request, outcome);
    if (violations.length > 0) this.#pending.push([violations, example]);
    const lost = await this.readBack(request, outcome);
    if (lost !== undefined)
      this.#pending.push([[lost], { ...example, answer: `${example.answer}; then ${lost.signature}` }]);
  }

  sendOptions() {
    return { base: this.server.url, agent: this.agent, timeoutMs: this.options.timeoutMs };
  }

  /** A run answered 202 made an action only its creator has seen: the creator must be able to read it. */
  async readBack(request: FuzzRequest, outcome: Outcome): Promise<Violation | undefined> {
    const isRun = request.method === 'POST' && (request.route === '/run' || request.route === '/actions');
    if (!isRun || outcome.kind !== 'answer' || outcome.status !== 202) return undefined;
    const action = jsonOf(outcome) as { action_id?: unknown; status?: unknown; release_after?: unknown } | undefined;
    const id = action?.action_id;
    if (typeof id !== 'string') return { oracle: 'lost-action', signature: '202 without an action_id' };
    // A completed action asked to be kept only briefly may rightly be gone already.
    const completed = action?.status === 'SUCCEEDED' || action?.status === 'FAILED';
    if (completed && retentionSeconds(action?.release_after) < 60) return undefined;
    this.report.readBacks++;
    const authorization = fill(request, this.fillers).headers.filter(([name]) => name === 'authorization');
    const path = `/${encodeURIComponent(id)}/status`;
    const wire = { method: 'GET', path, headers: authorization, body: undefined, framing: 'length' as const };
    const read = await send(wire, this.sendOptions());
    if (read.kind === 'answer' && read.status === 200 && (jsonOf(read) as { action_id?: unknown })?.action_id === id) {
      return undefined;
    }
    return { oracle: 'lost-action', signature: `status read back: ${describeOutcome(read).slice(0, 80)}` };
  }
}

/** Node's parser refuses a head over 16 KiB (431) before any provider code runs: server-level, like framing. */
function withHeaderSize(request: FuzzRequest, wire: WireRequest): FuzzRequest {
  const size = wire.headers.reduce((n, [name, value]) => n + name.length + value.length + 4, wire.path.length + 100);
  if (size <= 16_000) return request;
  return { ...request, features: [...request.features, 'size=head-over-16KiB'], serverLevel: true };
}

const DURATION =
  /^P(?:([\d.]+)Y)?(?:([\d.]+)M)?(?:([\d.]+)W)?(?:([\d.]+)D)?(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?$/;
const UNITS = [365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3600, 60, 1];

/** Roughly how long an ISO 8601 duration is, in seconds (Infinity when it cannot be read). */
function retentionSeconds(duration: unknown): number {
  const match = typeof duration === 'string' ? DURATION.exec(duration) : null;
  if (match === null) return Number.POSITIVE_INFINITY;
  return UNITS.reduce((total, unit, i) => total + Number(match[i + 1] ?? 0) * unit, 0);
}

/** After a connection error: has the process died (give its exit a moment to be seen)? */
async function died(server: TargetProcess): Promise<boolean> {
  if (!server.alive()) return true;
  await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 200))]);
  return !server.alive();
}

/**
 * The process died: start it again, then send the suspects one at a time to a fresh process
 * until one kills it. That one is the crash's reproducer; if none does alone, the first
 * suspect stands for it.
 */
export async function recover(
  target: Target,
  report: TargetReport,
  suspects: Map<number, FuzzRequest>,
  tokens: Record<string, string>,
  options: Pick<FuzzOptions, 'timeoutMs'>,
): Promise<TargetProcess> {
  const agent = keepAliveAgent(1);
  let server = await restart(target, report);
  let culprit: [number, FuzzRequest] | undefined;
  for (const [index, request] of suspects) {
    const fillers = { tokens, ids: await seedActions(server.url, tokens, agent) };
    await send(fill(request, fillers), { base: server.url, agent, timeoutMs: options.timeoutMs });
    if (await died(server)) {
      culprit = [index, request];
      mergeLog(report, server);
      server = await restart(target, report);
      break;
    }
  }
  agent.destroy();
  const [index, request] = culprit ?? [...suspects][0] ?? [-1, undefined];
  if (request !== undefined) {
    const signature = culprit === undefined ? 'process died (no single suspect reproduces it)' : 'process died';
    record(report, [{ oracle: 'crash', signature }], { index, request, answer: 'the server process exited' });
  } else record(report, [{ oracle: 'crash', signature: 'process died between requests' }], placeholderExample());
  return server;
}

async function restart(target: Target, report: TargetReport): Promise<TargetProcess> {
  report.restarts++;
  return target.start();
}

function placeholderExample(): Example {
  const request: FuzzRequest = {
    features: [],
    method: 'GET',
    route: '/',
    path: '/',
    headers: [],
    credential: 'valid',
    body: undefined,
    framing: 'length',
  };
  return { index: -1, request, answer: 'the server process exited' };
}
