/**
 * @module test/support/otel: the OpenTelemetry SDK as the tests use it: a tracer provider
 * exporting to memory, a meter provider whose metrics are collected by hand, and
 * `openTelemetry()` on both; with what the tests read of them (finished spans, data points).
 */

import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { onTestFinished } from 'vitest';
import type { Telemetry } from '../../src/observe/telemetry.ts';
import { openTelemetry } from '../../src/opentelemetry/index.ts';

/** A reader that collects only when told (no timer). */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** AsyncLocalStorage as the context manager, as the Node SDK sets it (once per test file). */
export function useAsyncContext(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

export interface InMemoryOtel {
  telemetry: Telemetry;
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** The one ended span named `name` (throws when there are none or several). */
  span(name: string): ReadableSpan;
  /** The data points of metric `name` now (collected), [] when it has none. */
  points<T = number>(name: string): Promise<DataPoint<T>[]>;
}

/** The SDK wired to memory and `openTelemetry()` on it; shut down when the test ends. */
export function inMemoryOtel(): InMemoryOtel {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  onTestFinished(async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });
  const spans = () => exporter.getFinishedSpans();
  return {
    telemetry: openTelemetry({ tracerProvider, meterProvider }),
    tracerProvider,
    meterProvider,
    spans,
    span(name) {
      const named = spans().filter((s) => s.name === name);
      if (named.length !== 1) {
        throw new Error(
          `${named.length} spans named ${name}; spans: ${spans()
            .map((s) => s.name)
            .join(', ')}`,
        );
      }
      return named[0] as ReadableSpan;
    },
    async points<T>(name: string) {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics)
          if (metric.descriptor.name === name) return metric.dataPoints as DataPoint<T>[];
      return [];
    },
  };
}

/** The count of a histogram's points whose attributes include `match`, summed. */
export const histogramCount = (points: DataPoint<Histogram>[], match: Record<string, unknown>): number =>
  matching(points, match).reduce((total, point) => total + point.value.count, 0);

/** The value of a counter's points whose attributes include `match`, summed. */
export const counterValue = (points: DataPoint<number>[], match: Record<string, unknown>): number =>
  matching(points, match).reduce((total, point) => total + point.value, 0);

const matching = <T>(points: DataPoint<T>[], match: Record<string, unknown>) =>
  points.filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value));
