/**
 * @module opentelemetry/instruments: the metrics a provider records, created once per
 * `openTelemetry()` on its meter, with the names of their attributes. Semantic-convention names
 * where OpenTelemetry has one (`http.server.request.duration`), `globus_action_provider.*` for
 * the rest.
 */
import type { Counter, Histogram, Meter, ObservableGauge, UpDownCounter } from '@opentelemetry/api';

/** The attributes of the provider's own (no semantic convention has them). */
export const OPERATION = 'globus_action_provider.operation';
export const ACTION_ID = 'globus_action_provider.action_id';
export const ERROR_CODE = 'globus_action_provider.error_code';
export const GLOBUS_CALL = 'globus_action_provider.globus.call';
export const CACHE_NAME = 'globus_action_provider.token_cache.name';
export const CACHE_HIT = 'globus_action_provider.token_cache.hit';
export const ACTION_STATUS = 'globus_action_provider.action.status';
export const WORK_OUTCOME = 'globus_action_provider.work.outcome';

/** The semantic conventions' buckets for HTTP durations, in seconds. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Background work runs for seconds to hours. */
const WORK_BUCKETS = [0.01, 0.1, 1, 5, 10, 30, 60, 300, 900, 3600, 14400];

export interface Instruments {
  requestDuration: Histogram;
  globusDuration: Histogram;
  globusFailures: Counter;
  cacheLookups: Counter;
  workQueued: Counter;
  workRunning: UpDownCounter;
  workRetries: Counter;
  attemptDuration: Histogram;
  /** The actions by status: observed only when the SDK collects. */
  actions: ObservableGauge;
}

export function createInstruments(meter: Meter): Instruments {
  const seconds = (name: string, description: string, buckets: number[]) =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: buckets } });
  return {
    requestDuration: seconds('http.server.request.duration', 'Duration of HTTP server requests.', HTTP_BUCKETS),
    globusDuration: seconds(
      'globus_action_provider.globus.call.duration',
      'Duration of calls to Globus Auth and Globus Groups, the retry included.',
      HTTP_BUCKETS,
    ),
    globusFailures: meter.createCounter('globus_action_provider.globus.call.failures', {
      unit: '{call}',
      description: 'Calls to Globus that got no usable answer (network error, timeout, 5xx after the retry).',
    }),
    cacheLookups: meter.createCounter('globus_action_provider.token_cache.lookups', {
      unit: '{lookup}',
      description: 'Lookups in the token caches, by cache and whether they hit.',
    }),
    workQueued: meter.createCounter('globus_action_provider.work.queued', {
      unit: '{action}',
      description: 'Actions whose background work was queued.',
    }),
    workRunning: meter.createUpDownCounter('globus_action_provider.work.running', {
      unit: '{attempt}',
      description: 'Attempts at background work running on this instance.',
    }),
    workRetries: meter.createCounter('globus_action_provider.work.retries', {
      unit: '{attempt}',
      description: 'Attempts at background work that failed and were scheduled to run again.',
    }),
    attemptDuration: seconds(
      'globus_action_provider.work.attempt.duration',
      'Duration of attempts at background work, by outcome.',
      WORK_BUCKETS,
    ),
    actions: meter.createObservableGauge('globus_action_provider.actions', {
      unit: '{action}',
      description: 'Actions in the store, by status.',
    }),
  };
}
