/**
 * @module opentelemetry/trace-context: how a request's trace context is read: a `Headers`
 * getter for any propagator, and the W3C Trace Context propagator used when none is registered
 * (a Worker with only `@opentelemetry/api` and the SDK's BasicTracerProvider has none, and would
 * otherwise never see the caller's `traceparent`).
 */
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { parseTraceparent } from '../observe/request-id.ts';

/** Reads a request's headers for `propagation.extract`. */
export const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** What a `tracestate` may be: the W3C limit is 32 members of at most 256 characters each. */
const MAX_TRACESTATE = 8192;

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** `traceparent` and `tracestate` (W3C Trace Context, version 00 and the versions after it allows). */
export const w3cTraceContext: TextMapPropagator = {
  inject(context, carrier, setter) {
    const span = trace.getSpanContext(context);
    if (span === undefined || !isSpanContextValid(span)) return;
    const sampled = span.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${sampled}`);
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, 'tracestate', state);
  },
  extract(context: Context, carrier, getter) {
    const parent = parseTraceparent(first(getter.get(carrier, 'traceparent')));
    if (parent === undefined) return context;
    const state = first(getter.get(carrier, 'tracestate'));
    return trace.setSpanContext(context, {
      traceId: parent.traceId,
      spanId: parent.parentId,
      traceFlags: parent.flags & TraceFlags.SAMPLED,
      isRemote: true,
      ...(state !== undefined && state.length <= MAX_TRACESTATE && { traceState: createTraceState(state) }),
    });
  },
  fields: () => ['traceparent', 'tracestate'],
};
