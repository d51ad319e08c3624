/**
 * @module opentelemetry/calls: the spans of the provider's calls to Globus (a CLIENT span
 * each, whether or not a request is under way: background work refreshes tokens too) with
 * their durations and failures, and the spans of its calls to the store (an INTERNAL span under
 * the request's, a leaf; without one, as for the sweeper's deletes and the work's heartbeats,
 * none). What depends only on the call's name is made once and kept.
 */
import {
  type Attributes,
  context,
  type Exception,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { GLOBUS_CALL, type Instruments } from './instruments.ts';

type Call<T> = () => Promise<T>;

/**
 * A low-cardinality name for what a call failed with, from its innermost cause: its `code`
 * (`ECONNREFUSED`, `SQLITE_BUSY`, an ActionError's), its HTTP status (a Globus 5xx), `timeout`,
 * or its class; `_OTHER` when it says nothing more than `Error`.
 */
export function errorTypeOf(error: unknown): string {
  let inner = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (inner as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    inner = cause;
  }
  if (typeof inner !== 'object' || inner === null) return '_OTHER';
  const { status, code, name } = inner as { status?: unknown; code?: unknown; name?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  if (typeof status === 'number') return String(status);
  if (name === 'TimeoutError') return 'timeout';
  return typeof name === 'string' && name !== '' && name !== 'Error' ? name : '_OTHER';
}

function failed(span: Span | undefined, errorType: string, error: unknown): void {
  if (span === undefined || !span.isRecording()) return;
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.recordException(error as Exception);
}

/** What the spans and durations of one Globus call share. */
interface GlobusEntry {
  name: string;
  options: SpanOptions;
  /** The duration's attributes by HTTP status. */
  byStatus: Map<number, Attributes>;
  attributes: Attributes;
}

/** Where each call goes: Groups has one, the rest are Globus Auth's. */
const serviceOf = (call: string) => (call === 'my_groups' ? 'Globus Groups' : 'Globus Auth');

/** Host and port of a service's base URL (the provider's own configuration, never a caller's). */
function serverOf(target: string | undefined): Attributes {
  if (target === undefined) return {};
  try {
    const url = new URL(target);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return { 'server.address': url.hostname.replace(/^\[|\]$/g, ''), 'server.port': port };
  } catch {
    return {};
  }
}

export function globusCalls(
  tracer: Tracer,
  instruments: Instruments,
): <T>(name: string, call: Call<T>, target: string | undefined) => Promise<T> {
  const entries = new Map<string, Map<string | undefined, GlobusEntry>>();
  const entryOf = (name: string, target: string | undefined): GlobusEntry => {
    let byTarget = entries.get(name);
    if (byTarget === undefined) {
      byTarget = new Map();
      entries.set(name, byTarget);
    }
    let entry = byTarget.get(target);
    if (entry === undefined) {
      const attributes: Attributes = { [GLOBUS_CALL]: name, ...serverOf(target) };
      entry = {
        name: `${serviceOf(name)} ${name}`,
        options: { kind: SpanKind.CLIENT, attributes },
        byStatus: new Map(),
        attributes,
      };
      byTarget.set(target, entry);
    }
    return entry;
  };
  const measured = (entry: GlobusEntry, status: number): Attributes => {
    let attributes = entry.byStatus.get(status);
    if (attributes === undefined) {
      attributes = { ...entry.attributes, 'http.response.status_code': status };
      if (status >= 400) attributes['error.type'] = String(status);
      entry.byStatus.set(status, attributes);
    }
    return attributes;
  };

  return async (name, call, target) => {
    const entry = entryOf(name, target);
    const parent = context.active();
    const span = tracer.startSpan(entry.name, entry.options, parent);
    const started = performance.now();
    try {
      const result = await context.with(trace.setSpan(parent, span), call);
      const status = (result as { status?: unknown } | null)?.status;
      let attributes = entry.attributes;
      if (typeof status === 'number') {
        attributes = measured(entry, status);
        if (span.isRecording()) {
          span.setAttribute('http.response.status_code', status);
          // On a client span a 4xx is an error too (semantic conventions).
          if (status >= 400) {
            span.setAttribute('error.type', String(status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        }
      }
      instruments.globusDuration.record((performance.now() - started) / 1000, attributes);
      return result;
    } catch (error) {
      const errorType = errorTypeOf(error);
      const attributes = { ...entry.attributes, 'error.type': errorType };
      instruments.globusDuration.record((performance.now() - started) / 1000, attributes);
      instruments.globusFailures.add(1, attributes);
      failed(span, errorType, error);
      throw error;
    } finally {
      span.end();
    }
  };
}

/** What the spans of one store call share. */
interface StoreEntry {
  name: string;
  options: SpanOptions;
}

/**
 * The store's calls: spans only, no metric of their own (a histogram per call would cost a
 * status request as much again as its own duration's; a failing store shows in the requests'
 * 503s and in the spans).
 */
export function storeCalls(tracer: Tracer): <T>(name: string, call: Call<T>) => Promise<T> {
  const entries = new Map<string, StoreEntry>();
  const entryOf = (name: string): StoreEntry => {
    let entry = entries.get(name);
    if (entry === undefined) {
      entry = {
        name: `store ${name}`,
        options: { kind: SpanKind.INTERNAL, attributes: { 'db.operation.name': name } },
      };
      entries.set(name, entry);
    }
    return entry;
  };

  return async (name, call) => {
    const parent = context.active();
    // Only under a request's span: a root span per heartbeat or sweep would be noise.
    if (trace.getSpan(parent) === undefined) return call();
    const entry = entryOf(name);
    const span = tracer.startSpan(entry.name, entry.options, parent);
    try {
      // A leaf: no instrumentation runs under a store call, so it is not made the current span.
      return await call();
    } catch (error) {
      failed(span, errorTypeOf(error), error);
      throw error;
    } finally {
      span.end();
    }
  };
}
