/**
 * @module check/types: what `checkProvider` reports: each check's outcome with the requests and
 * answers behind a failure (tokens redacted), the actions it created and released, and counts.
 */

/** A check passed, failed, or could not be made against this provider (and says why). */
export type Outcome = 'pass' | 'fail' | 'not-applicable';

/** A request as it was sent, its credential shown by name only (`Bearer <token>`). */
export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as sent, when there was one. */
  body?: string;
}

/** An answer as it was received: the body as text (cut past a few kilobytes), tokens redacted. */
export interface ReceivedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when `body` was cut. */
  truncated?: true;
}

/** One request and its answer, or why there was none (a timeout, a refused connection). */
export interface Exchange {
  request: SentRequest;
  answer?: ReceivedAnswer;
  error?: string;
}

export interface CheckResult {
  /** Stable, for CI: `run`, `actions.status`, `isolation.cancel`, ... */
  id: string;
  /** The group it is listed under in the report. */
  section: string;
  /** What is checked, in a sentence. */
  title: string;
  /** The spec section or Globus client behaviour it rests on. */
  basis: string;
  outcome: Outcome;
  /** Why it failed, or why it does not apply; absent on a pass. */
  reason?: string;
  /** The requests and answers behind a failure (absent otherwise). */
  exchanges?: Exchange[];
}

export interface CheckReport {
  /** The provider's base URL, as checked. */
  url: string;
  /** From its description, when it answered one. */
  provider?: { title?: string; scope?: string };
  checks: CheckResult[];
  summary: {
    passed: number;
    failed: number;
    notApplicable: number;
    /** Requests sent, cleanup included. */
    requests: number;
    /** The most requests one run may send. */
    requestBound: number;
  };
  /** Every action the check created, and what became of it. */
  actions: {
    created: string[];
    released: string[];
    /** Still there: never completed in time, or its release was refused. */
    remaining: string[];
  };
  /** True when no check failed. */
  ok: boolean;
}

/** Told after each check is decided: how many of how many, and which. */
export interface CheckProgress {
  done: number;
  total: number;
  id: string;
  outcome: Outcome;
}
