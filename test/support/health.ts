/**
 * @module test/support/health: a provider served by the Node adapter with its health routes, and
 * the probes a load balancer makes of them, over real HTTP; the server stops when the test ends.
 */
import { expect, onTestFinished } from 'vitest';
import type { FetchProvider, HealthOption } from '../../adapters/contract.ts';
import { serve } from '../../adapters/node.ts';
import type { HealthReport } from '../../src/index.ts';

/** One probe's answer: status, headers, the body's JSON (undefined when empty), and how long it took. */
export interface Probe {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

/** `method path` on `origin`, timed. */
export async function probe(origin: string, path = '/readyz', method = 'GET'): Promise<Probe> {
  const started = performance.now();
  const response = await fetch(origin + path, { method });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
    ms: performance.now() - started,
  };
}

/** A readiness answer: the status the report's status calls for, not cached, the report as the body. */
export function expectReadiness(reply: Probe, status: HealthReport['status']): HealthReport {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status === 'fail' ? 503 : 200);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.body.status).toBe(status);
  return reply.body as HealthReport;
}

/** Serve `provider` under `/echo` with its health routes on a free port; resolves to the origin (no prefix). */
export async function serveWithHealth(provider: FetchProvider, health: HealthOption = true): Promise<string> {
  const server = await serve(provider, {
    port: 0,
    prefix: '/echo',
    health,
    handleSignals: false,
    sweepInterval: 0,
  });
  onTestFinished(() => {
    server.server.closeAllConnections();
    return server.close();
  });
  return new URL(server.url).origin;
}
