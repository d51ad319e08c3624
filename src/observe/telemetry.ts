/**
 * @module observe/telemetry: what a provider reports while it works (requests, calls to Globus
 * and to the store, token cache lookups, background work, actions by status), as the interface a
 * telemetry backend implements. `openTelemetry()` (globus-action-provider/opentelemetry) is one;
 * without a `telemetry` option nothing is measured and nothing is called.
 */
import type { ActionStatusValue } from '../model.ts';

/** Span and metric attributes: plain values only. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** A request as it arrives, before routing. */
export interface RequestStart {
  readonly request: Request;
  /** The route's pattern (`/actions/:id`), or undefined when no route matched. */
  readonly route: string | undefined;
  /** The Action Provider operation (`status`, `run`, ...), `preflight`, or undefined for no route. */
  readonly operation: string | undefined;
}

/** How a request ended. */
export interface RequestEnd {
  readonly status: number;
  /** The action, once known (run knows it only once the action is stored). */
  readonly actionId: string | undefined;
  /** The caller's identity URN, once authenticated. */
  readonly identity: string | undefined;
  /** The error's stable code for an error answer (`ActionNotFound`, ...). */
  readonly code: string | undefined;
  /** What was thrown, for an answer that came from an error. */
  readonly error: unknown;
}

/** One request's span (or whatever the backend keeps for it). */
export interface RequestTelemetry {
  /** Runs the request's handling with this request as the current context, so calls made during it nest under it. */
  run<T>(handle: () => T): T;
  /** The request is answered. Called exactly once. */
  end(outcome: RequestEnd): void;
  /** The trace id of the request (32 hex digits), used as the request id when the caller sent none. */
  readonly traceId: string | undefined;
}

/** What a call reaches: Globus (Auth or Groups) or the action store. */
export type CallKind = 'globus' | 'store';

/** An event of background work. */
export type WorkEvent =
  | { readonly type: 'queued'; readonly actionId: string }
  | { readonly type: 'started'; readonly actionId: string; readonly attempt: number }
  | {
      readonly type: 'finished';
      readonly actionId: string;
      readonly attempt: number;
      /** `completed`: a final update (SUCCEEDED, FAILED, INACTIVE) was stored; `retry`: it threw and will run again; `stopped`: cancelled, lease lost or shutdown. */
      readonly outcome: 'completed' | 'retry' | 'failed' | 'stopped';
      readonly durationMs: number;
    };

/**
 * A telemetry backend. Every method is called on the request path: it must not throw and
 * should cost little. `openTelemetry()` implements it with `@opentelemetry/api`.
 */
export interface Telemetry {
  /** A request begins (after routing, before anything else). */
  request(start: RequestStart): RequestTelemetry;
  /**
   * Around one call to Globus or to the store: `name` is the call (`token introspection`,
   * `get`, ...). Resolves or rejects as `call` does. A Globus call gives `target`, the base URL
   * of the service it reaches, and resolves to that service's answer, `{ status }` (its HTTP
   * status) among what it holds; it rejects when the service could not be reached or answered
   * 5xx (after its retry).
   */
  call<T>(kind: CallKind, name: string, call: () => Promise<T>, target?: string): Promise<T>;
  /** A lookup in one of the token caches (`introspection`, `dependent_tokens`, `groups`). */
  cacheLookup(cache: string, hit: boolean): void;
  /** Background work queued, started, finished. */
  work(event: WorkEvent): void;
  /**
   * Told once, at the provider's creation, how to count its actions by status; a backend
   * that reports them (a gauge) calls it when it collects, never on the request path.
   */
  countActions?(count: () => Promise<Partial<Record<ActionStatusValue, number>>>): void;
}

/** What an authenticator is told, once, at the provider's creation, to report its calls and caches. */
export interface AuthTelemetry {
  /** `target`: the base URL of the Globus service called. */
  call<T>(name: string, call: () => Promise<T>, target?: string): Promise<T>;
  cacheLookup(cache: string, hit: boolean): void;
}

/** The part of `telemetry` an authenticator uses. */
export function authTelemetry(telemetry: Telemetry): AuthTelemetry {
  return {
    call: (name, call, target) => telemetry.call('globus', name, call, target),
    cacheLookup: (cache, hit) => telemetry.cacheLookup(cache, hit),
  };
}
