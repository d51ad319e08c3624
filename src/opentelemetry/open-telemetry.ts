/**
 * @module opentelemetry/open-telemetry: `openTelemetry()`, the provider's `Telemetry` on
 * `@opentelemetry/api`: a server span per request (its parent from the caller's `traceparent`),
 * child spans for the calls to Globus and to the store, and the metrics of requests, calls,
 * token caches, actions and background work. The API is this module's alone: a provider
 * without the `telemetry` option never loads it.
 */
import {
  type Attributes,
  context,
  type MeterProvider,
  metrics,
  propagation,
  SpanKind,
  type TextMapPropagator,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { ACTION_STATUSES, type ActionStatusValue } from '../model.ts';
import type { Telemetry, WorkEvent } from '../observe/telemetry.ts';
import { globusCalls, storeCalls } from './calls.ts';
import { ACTION_STATUS, CACHE_HIT, CACHE_NAME, createInstruments, WORK_OUTCOME } from './instruments.ts';
import { RequestSpan, requestAttributes, routeEntries } from './server-span.ts';
import { headersGetter, w3cTraceContext } from './trace-context.ts';

/** The instrumentation scope of the tracer and the meter. */
const SCOPE = 'globus-action-provider';

export interface OpenTelemetryOptions {
  /** Where spans go. Default: the global one (`trace`), as the SDK registers it (it may do so later). */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Default: the global one (`metrics`). The API has no stand-in for a meter
   * provider registered later: start the SDK before calling `openTelemetry()`, or pass it here.
   */
  meterProvider?: MeterProvider;
  /**
   * How the caller's trace context is read from the request's headers. Default: the global
   * propagator (`propagation`) when one is registered (the Node SDK registers W3C Trace Context
   * and Baggage), else W3C Trace Context (`traceparent`, `tracestate`).
   */
  propagator?: TextMapPropagator;
}

type Counts = Partial<Record<ActionStatusValue, number>>;

const WORK_OUTCOMES = ['completed', 'retry', 'failed', 'stopped'] as const;

/**
 * The provider's telemetry on OpenTelemetry: pass it as the `telemetry` option.
 *
 * @example
 * ```ts
 * import { openTelemetry } from 'globus-action-provider/opentelemetry';
 * // After the SDK has started (see README, "OpenTelemetry"):
 * createActionProvider({ ..., telemetry: openTelemetry() });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  if (typeof options !== 'object' || options === null) throw new TypeError('openTelemetry: options must be an object');
  const { tracerProvider, meterProvider, propagator: given } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function')
    throw new TypeError('tracerProvider: must be a TracerProvider (with getTracer())');
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function')
    throw new TypeError('meterProvider: must be a MeterProvider (with getMeter())');
  if (given !== undefined && typeof given?.extract !== 'function')
    throw new TypeError('propagator: must be a TextMapPropagator (with extract())');

  const tracer = (tracerProvider ?? trace).getTracer(SCOPE);
  const instruments = createInstruments((meterProvider ?? metrics).getMeter(SCOPE));
  const entryOf = routeEntries();
  const globus = globusCalls(tracer, instruments);
  const store = storeCalls(tracer);
  // Decided at the first request rather than here: the SDK may register its propagator after.
  let propagator = given;

  const cacheAttributes = new Map<string, [miss: Attributes, hit: Attributes]>();
  const outcomes = Object.fromEntries(WORK_OUTCOMES.map((outcome) => [outcome, { [WORK_OUTCOME]: outcome }]));
  const counters: (() => Promise<Counts>)[] = [];

  return {
    request({ request, route, operation }) {
      const started = performance.now();
      const entry = entryOf(request.method, route, operation);
      const { attributes, https } = requestAttributes(request, entry);
      const active = context.active();
      const host = trace.getSpan(active);
      let parent = active;
      let kind = SpanKind.SERVER;
      if (host === undefined) {
        propagator ??= propagation.fields().length > 0 ? propagation : w3cTraceContext;
        try {
          parent = propagator.extract(active, request.headers, headersGetter);
        } catch {
          // A propagator of one's own that chokes on a header: the request goes on, a trace of its own.
        }
      } else if (!host.spanContext().isRemote) {
        // Inside a host whose own instrumentation made the server span: a child of it, the
        // caller's traceparent read already.
        kind = SpanKind.INTERNAL;
      }
      const span = tracer.startSpan(entry.name, { kind, attributes }, parent);
      return new RequestSpan(span, trace.setSpan(parent, span), started, entry, https, instruments);
    },

    call(kind, name, call, target) {
      return kind === 'globus' ? globus(name, call, target) : store(name, call);
    },

    cacheLookup(cache, hit) {
      let attributes = cacheAttributes.get(cache);
      if (attributes === undefined) {
        attributes = [
          { [CACHE_NAME]: cache, [CACHE_HIT]: false },
          { [CACHE_NAME]: cache, [CACHE_HIT]: true },
        ];
        cacheAttributes.set(cache, attributes);
      }
      instruments.cacheLookups.add(1, attributes[hit ? 1 : 0]);
    },

    work(event: WorkEvent) {
      if (event.type === 'queued') instruments.workQueued.add(1);
      else if (event.type === 'started') instruments.workRunning.add(1);
      else {
        instruments.workRunning.add(-1);
        instruments.attemptDuration.record(event.durationMs / 1000, outcomes[event.outcome]);
        if (event.outcome === 'retry') instruments.workRetries.add(1);
      }
    },

    countActions(count) {
      counters.push(count);
      if (counters.length > 1) return; // one callback sums the providers sharing this telemetry
      const statuses = ACTION_STATUSES.map((status) => [status, { [ACTION_STATUS]: status }] as const);
      instruments.actions.addCallback(async (result) => {
        let all: Counts[];
        try {
          all = await Promise.all(counters.map((counter) => counter()));
        } catch {
          return; // a store that cannot answer now: no observation rather than a wrong figure
        }
        for (const [status, attributes] of statuses) {
          let total = 0;
          for (const counts of all) total += counts[status] ?? 0;
          result.observe(total, attributes);
        }
      });
    },
  };
}
