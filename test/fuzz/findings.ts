/**
 * @module test/fuzz/findings: failures deduplicated by kind. A kind is an oracle with a status
 * and error code (or a connection error); within a kind, the features of the failing requests
 * (their operation among them, `op=run`) say what caused it: the feature in most of them that
 * also fails most of the requests carrying it. Each finding keeps its smallest reproducer.
 */
import type { Oracle, Violation } from './oracles.ts';
import type { FuzzRequest } from './request.ts';

/** One failing request as kept for a reproducer. */
export interface Example {
  index: number;
  request: FuzzRequest;
  /** What came back: `500 {"code":...}`, `no answer in time`, `ECONNRESET`. */
  answer: string;
  /** What the provider logged while answering it. */
  cause?: string;
}

export interface Finding {
  oracle: Oracle;
  signature: string;
  /** What the provider logged for these requests, when it logged anything. */
  cause: string | undefined;
  /** The operations its requests aimed at (`run`, `status`, `GET near-miss:/run/`). */
  operations: string[];
  /** The feature that explains it, or undefined when no single one does. */
  feature: string | undefined;
  /** Failing requests it covers. */
  count: number;
  /** Of all requests with the feature, how many failed this way (1 when deterministic). */
  rate: number;
  example: Example;
}

const OPERATIONS: Record<string, string> = {
  'POST /run': 'run',
  'POST /actions': 'run',
  'GET /{id}/status': 'status',
  'GET /actions/{id}': 'status',
  'HEAD /{id}/status': 'status',
  'HEAD /actions/{id}': 'status',
  'POST /{id}/cancel': 'cancel',
  'POST /actions/{id}/cancel': 'cancel',
  'POST /{id}/release': 'release',
  'POST /actions/{id}/release': 'release',
  'DELETE /actions/{id}': 'release',
  'POST /{id}/resume': 'resume',
  'POST /actions/{id}/resume': 'resume',
  'GET /{id}/log': 'log',
  'GET /actions/{id}/log': 'log',
  'HEAD /{id}/log': 'log',
  'HEAD /actions/{id}/log': 'log',
  'GET /actions': 'enumerate',
  'HEAD /actions': 'enumerate',
  'GET /': 'introspect',
  'HEAD /': 'introspect',
};

/** The operation a request aims at, both route families as one. */
export const operationOf = (request: FuzzRequest): string =>
  OPERATIONS[`${request.method} ${request.route}`] ?? `${request.method} ${request.route}`;

const weight = (request: FuzzRequest) => (request.body?.byteLength ?? 0) + request.path.length;
const NO_FEATURE = '(none)';
const MAX_PER_KIND = 12;

interface FeatureSet {
  features: string[];
  operation: string;
  count: number;
  example: Example;
}

interface Kind {
  oracle: Oracle;
  signature: string;
  cause: string | undefined;
  sets: Map<string, FeatureSet>;
}

/** Collects failures, and counts every request's features so rates can be told. */
export class Findings {
  readonly #kinds = new Map<string, Kind>();
  readonly #seen = new Map<string, number>();

  /** Count a request that was sent (failing or not). */
  sent(request: FuzzRequest): void {
    for (const feature of featuresOf(request)) this.#seen.set(feature, (this.#seen.get(feature) ?? 0) + 1);
  }

  add(violation: Violation, example: Example): void {
    const kindKey = `${violation.oracle}\u0000${violation.signature}\u0000${violation.cause ?? ''}`;
    let kind = this.#kinds.get(kindKey);
    if (kind === undefined) {
      kind = { oracle: violation.oracle, signature: violation.signature, cause: violation.cause, sets: new Map() };
      this.#kinds.set(kindKey, kind);
    }
    const features = featuresOf(example.request);
    const setKey = features.join('\u0000');
    const set = kind.sets.get(setKey);
    if (set === undefined)
      kind.sets.set(setKey, { features, operation: operationOf(example.request), count: 1, example });
    else {
      set.count++;
      if (weight(example.request) < weight(set.example.request)) set.example = example;
    }
  }

  /** Deduplicated findings, most frequent first. */
  list(): Finding[] {
    const findings: Finding[] = [];
    for (const kind of this.#kinds.values()) findings.push(...this.#explain(kind, [...kind.sets.values()]));
    return findings.sort((a, b) => b.count - a.count);
  }

  /**
   * Greedy cover. The next feature is the one with the most uncovered failures weighted by how
   * often requests with it fail (coverage times rate), so a feature every request has does not
   * win by numbers alone, nor a one-off by its rate. A feature qualifies when it fails a fifth
   * of its requests, covers a third of what is left, or fails at least two and one in fifty
   * (a value that fails only once it gets past validation); at most MAX_PER_KIND per kind, the
   * rest unexplained.
   */
  #explain({ oracle, signature, cause }: Kind, sets: FeatureSet[]): Finding[] {
    const found: Finding[] = [];
    let left = sets;
    const rateOf = (feature: string, count: number) => count / (this.#seen.get(feature) ?? count);
    while (left.length > 0 && found.length < MAX_PER_KIND) {
      const cover = new Map<string, number>();
      for (const set of left) for (const f of set.features) cover.set(f, (cover.get(f) ?? 0) + set.count);
      const remaining = left.reduce((n, s) => n + s.count, 0);
      const score = ([f, n]: [string, number]) => n * rateOf(f, n);
      const qualifies = ([f, n]: [string, number]) =>
        rateOf(f, n) >= 0.2 || n >= remaining / 3 || (n >= 2 && rateOf(f, n) >= 0.02);
      const best = [...cover.entries()].filter(qualifies).sort((a, b) => score(b) - score(a))[0];
      if (best === undefined) break;
      const [feature, count] = best;
      const rate = rateOf(feature, count);
      const covered = left.filter((s) => s.features.includes(feature));
      found.push({
        oracle,
        signature,
        cause,
        operations: operations(covered),
        feature,
        count,
        rate,
        example: smallest(covered),
      });
      left = left.filter((s) => !s.features.includes(feature));
    }
    if (left.length > 0) {
      const count = left.reduce((n, s) => n + s.count, 0);
      found.push({
        oracle,
        signature,
        cause,
        operations: operations(left),
        feature: undefined,
        count,
        rate: 0,
        example: smallest(left),
      });
    }
    return found;
  }
}

/** A request's features, its operation among them (so a bug of one operation has a feature too). */
function featuresOf(request: FuzzRequest): string[] {
  return [`op=${operationOf(request)}`, ...(request.features.length === 0 ? [NO_FEATURE] : request.features)];
}

function operations(sets: FeatureSet[]): string[] {
  const counts = new Map<string, number>();
  for (const s of sets) counts.set(s.operation, (counts.get(s.operation) ?? 0) + s.count);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([op]) => op);
}

function smallest(sets: FeatureSet[]): Example {
  return sets.map((s) => s.example).sort((a, b) => weight(a.request) - weight(b.request))[0] as Example;
}
