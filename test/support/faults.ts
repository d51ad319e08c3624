/**
 * @module test/support/faults: load on a provider while its database fails, and what must hold
 * of every answer: 2xx or 503 with `Retry-After` (never a 500), within a time bound, service
 * back once the fault is lifted, and every acknowledged action still there afterwards.
 */
import { expect } from 'vitest';
import type { ActionClient, ClientReply } from '../../src/testing/index.ts';
import { sleep, waitFor } from './async.ts';

export interface Outcome {
  op: 'run' | 'status';
  status: number;
  /** Milliseconds the request took. */
  ms: number;
  /** When it was sent (performance.now()). */
  at: number;
  retryAfter: string | null;
  code: unknown;
  requestId?: string;
  body?: Record<string, unknown>;
  /** The answered action (2xx). */
  action?: { action_id: string; details: unknown; status: string };
}

export interface Load {
  outcomes: Outcome[];
  /** Acknowledged runs (202/200) by action id. */
  acked(): Map<string, { details: unknown; requestId: string }>;
  stop(): Promise<Outcome[]>;
}

async function timed(
  op: Outcome['op'],
  send: () => Promise<ClientReply>,
  extra: Partial<Outcome> = {},
): Promise<Outcome> {
  const at = performance.now();
  const reply = await send();
  return {
    op,
    status: reply.status,
    ms: performance.now() - at,
    at,
    retryAfter: reply.headers.get('retry-after'),
    code: reply.body?.code,
    ...extra,
    ...(reply.status < 300 ? { action: reply.body } : {}),
  };
}

/**
 * `workers` loops, each: run a new request, then read the status of an action acknowledged
 * earlier. Runs until `stop()`.
 */
export function startLoad(
  client: ActionClient,
  workers: number,
  body: (n: number) => Record<string, unknown> = (n) => ({ n }),
  pause = 5,
): Load {
  const outcomes: Outcome[] = [];
  const ackedIds: string[] = [];
  let running = true;
  let serial = 0;
  const worker = async () => {
    while (running) {
      const requestId = crypto.randomUUID();
      const sent = body(serial++);
      const run = await timed('run', () => client.run({ request_id: requestId, body: sent }), {
        requestId,
        body: sent,
      });
      outcomes.push(run);
      if (run.action !== undefined) ackedIds.push(run.action.action_id);
      const known = ackedIds[Math.floor(Math.random() * ackedIds.length)];
      if (known !== undefined) outcomes.push(await timed('status', () => client.status(known)));
      await sleep(pause);
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    outcomes,
    acked: () => {
      const map = new Map<string, { details: unknown; requestId: string }>();
      for (const o of outcomes) {
        if (o.op === 'run' && o.action !== undefined) {
          map.set(o.action.action_id, { details: o.action.details, requestId: o.requestId as string });
        }
      }
      return map;
    },
    async stop() {
      running = false;
      await all;
      return outcomes;
    },
  };
}

export interface Drill {
  load: Load;
  /** performance.now() at injection and at lifting. */
  injectedAt: number;
  liftedAt: number;
  /**
   * Milliseconds from the end of `lift()` (the database is back: for a restart, once it
   * accepts connections) to the answer of the first run acknowledged after it.
   */
  recoveredIn: number;
}

/**
 * Load, then `inject()` the fault for `faultMs`, then `lift()` it and wait (up to `recoverMs`)
 * for a run sent afterwards to be acknowledged. The fault functions may be async.
 */
export async function drill(
  client: ActionClient,
  fault: { inject(): unknown; lift(): unknown },
  options: {
    workers?: number;
    beforeMs?: number;
    faultMs?: number;
    recoverMs?: number;
    /** The body of the n-th run. Default `{ n }`. */
    body?: (n: number) => Record<string, unknown>;
  } = {},
): Promise<Drill> {
  const load = startLoad(client, options.workers ?? 6, options.body);
  await sleep(options.beforeMs ?? 300);
  const injectedAt = performance.now();
  await fault.inject();
  await sleep(options.faultMs ?? 2_000);
  const liftedAt = performance.now();
  await fault.lift();
  const backAt = performance.now();
  const firstAfter = () => load.outcomes.find((o) => o.op === 'run' && o.at >= liftedAt && o.status === 202);
  const recovered = await waitFor(() => firstAfter() !== undefined, options.recoverMs ?? 15_000);
  await sleep(200);
  await load.stop();
  expect(recovered, 'service came back after the fault was lifted').toBe(true);
  const first = firstAfter() as Outcome;
  return { load, injectedAt, liftedAt, recoveredIn: Math.max(0, first.at + first.ms - backAt) };
}

/**
 * What must hold of a drill: only 2xx and 503 ServiceUnavailable with Retry-After, some 503s
 * while the fault lasted, every answer within `boundMs`.
 */
export function expectOnly2xxOr503(d: Drill, boundMs: number, retryAfter = '5'): Outcome[] {
  const { outcomes } = d.load;
  const unexpected = outcomes.filter((o) => !(o.status === 200 || o.status === 202 || o.status === 503));
  expect(unexpected.map((o) => `${o.op} ${o.status} ${o.code}`)).toEqual([]);
  const unavailable = outcomes.filter((o) => o.status === 503);
  expect(unavailable.length, 'some requests met the fault').toBeGreaterThan(0);
  for (const o of unavailable) {
    expect(o.code).toBe('ServiceUnavailable');
    expect(o.retryAfter).toBe(retryAfter);
  }
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  expect(slowest, `slowest answer ${Math.round(slowest)} ms`).toBeLessThan(boundMs);
  return unavailable;
}

/**
 * Nothing acknowledged was lost: every action answered 202/200 reads back 200 with the details
 * it was acknowledged with; and every run answered 503, sent again with its request_id, is
 * answered 202 or 200 (run again, or found done), never 409 or 5xx.
 */
export async function expectNothingLost(client: ActionClient, d: Drill): Promise<void> {
  const acked = d.load.acked();
  expect(acked.size).toBeGreaterThan(0);
  const missing: string[] = [];
  for (const [id, { details }] of acked) {
    const reply = await client.status(id);
    if (reply.status !== 200 || JSON.stringify(reply.body.details) !== JSON.stringify(details)) missing.push(id);
  }
  expect(missing, `${missing.length} of ${acked.size} acknowledged actions lost`).toEqual([]);
  const failedRuns = d.load.outcomes.filter((o) => o.op === 'run' && o.status === 503);
  for (const o of failedRuns.slice(0, 20)) {
    const again = await client.run({ request_id: o.requestId as string, body: o.body as Record<string, unknown> });
    expect([200, 202], again.text).toContain(again.status);
  }
}
