/**
 * @module test/crash: a provider process killed with SIGKILL under load and restarted on the same
 * data loses nothing it acknowledged: every action answered 2xx before the kill is served after
 * the restart with its last acknowledged status and details. For the embedded SQLite store
 * (the examples' default, DATA_DIR) and PostgreSQL (DATABASE_URL); for the echo example and for
 * a provider whose status calls advance each action ACTIVE → ... → SUCCEEDED, step by step.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { actionClient, type ClientReply } from '../src/testing/index.ts';
import { pool } from './support/async.ts';
import { mint, USERS, urn } from './support/identities.ts';
import { freshDatabase } from './support/postgres.ts';
import { type ProviderProcess, spawnDurableProvider, spawnNodeExample } from './support/processes.ts';

const STEPS = 3; // test/fixtures/durable-provider.ts, PROVIDER_MODE=stepper: step 3 is SUCCEEDED
const IN_FLIGHT = 40;
const KILL_AFTER_RUNS = 250;
/**
 * Every tenth stepper run is slow (its input ends in ` slow`): the kill waits until one was sent
 * at least 50 ms and at most SLOW_RUN_MS - 200 ms before, so it is certainly cut off. The echo
 * example answers at once; the test client, not the provider, is then the slower side, and its
 * kill may find every request already answered.
 */
const SLOW_RUN_MS = 1000;

type Mode = 'echo' | 'stepper';
type Data = { env: Record<string, string>; cleanup(): Promise<void> | void };

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanups.reverse()) await step();
});

const sqliteData = (): Data => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-crash-'));
  return { env: { DATA_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};
const postgresData = async (): Promise<Data> => {
  // A database of its own: examples/node.ts uses the default table prefix.
  const db = await freshDatabase(inject('databaseUrl'));
  return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
};

const stepper = (env: Record<string, string>) =>
  spawnDurableProvider({ ...env, PROVIDER_MODE: 'stepper', SLOW_RUN_MS: String(SLOW_RUN_MS) });
const SCENARIOS: [
  string,
  Mode,
  () => Data | Promise<Data>,
  (env: Record<string, string>) => Promise<ProviderProcess>,
][] = [
  ['examples/node.ts (echo) on embedded SQLite', 'echo', sqliteData, spawnNodeExample],
  ['examples/node.ts (echo) on PostgreSQL', 'echo', postgresData, spawnNodeExample],
  ['a stepping provider on embedded SQLite', 'stepper', sqliteData, stepper],
  ['a stepping provider on PostgreSQL', 'stepper', postgresData, stepper],
];

const step = (doc: { details: Record<string, unknown> }) => Number(doc.details['step']);

interface LoadResult {
  /** The last status document answered 2xx for each acknowledged action. */
  acked: Map<string, any>;
  /** Status calls per action that got no answer (the kill cut them off): each may or may not have been stored. */
  unanswered: Map<string, number>;
  ackedRuns: number;
  ackedStatusCalls: number;
  failed: number;
  unexpected: string[];
}

/**
 * Concurrent runs, each followed by 0 to 4 status calls on the new action (so the stepper's
 * actions are acknowledged at every step); SIGKILL once KILL_AFTER_RUNS runs were acknowledged
 * (and, for the stepper, while a slow run is surely in progress).
 */
async function loadThenKill(host: ProviderProcess, token: string, mode: Mode): Promise<LoadResult> {
  const client = actionClient(host.url, { token });
  const result: LoadResult = {
    acked: new Map(),
    unanswered: new Map(),
    ackedRuns: 0,
    ackedStatusCalls: 0,
    failed: 0,
    unexpected: [],
  };
  let killed = false;
  let n = 0;
  const slowInFlight = new Map<number, number>(); // run number → when sent
  const exited = once(host.child, 'exit');
  const due = () => {
    if (result.ackedRuns < KILL_AFTER_RUNS) return false;
    if (mode === 'echo') return true;
    const now = performance.now();
    return [...slowInFlight.values()].some((sent) => now - sent >= 50 && now - sent <= SLOW_RUN_MS - 200);
  };
  const killer = setInterval(() => {
    if (!killed && due()) {
      killed = true;
      host.child.kill('SIGKILL');
    }
  }, 5);
  const status = async (id: string) => {
    try {
      const reply = await client.status(id);
      if (reply.status !== 200) return result.unexpected.push(`status ${reply.status} ${reply.text}`);
      const previous = result.acked.get(id);
      if (previous.details.step !== undefined && step(reply.body) < step(previous))
        result.unexpected.push(`step went back: ${reply.text}`);
      result.acked.set(id, reply.body);
      result.ackedStatusCalls++;
    } catch {
      result.failed++;
      result.unanswered.set(id, (result.unanswered.get(id) ?? 0) + 1);
    }
  };
  const worker = async () => {
    while (!killed) {
      const i = ++n;
      const slow = mode === 'stepper' && i % 10 === 0;
      let id: string | undefined;
      if (slow) slowInFlight.set(i, performance.now());
      try {
        const input = `said ${i}${slow ? ' slow' : ''}`;
        const reply = await client.run({ request_id: `crash-${i}`, body: { input_string: input } });
        if (reply.status === 202) {
          id = reply.body.action_id as string;
          result.acked.set(id, reply.body);
          result.ackedRuns++;
        } else {
          result.unexpected.push(`run ${reply.status} ${reply.text}`);
        }
      } catch {
        result.failed++;
      } finally {
        slowInFlight.delete(i);
      }
      for (let calls = i % 5; id !== undefined && calls > 0 && !killed; calls--) await status(id);
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    clearInterval(killer);
  }
  await exited;
  expect(host.child.signalCode).toBe('SIGKILL');
  return result;
}

describe.each(SCENARIOS)('SIGKILL under load: %s', (_name, mode, makeData, spawn) => {
  it('serves every acknowledged action after a restart with its last acknowledged status and details', async () => {
    const data = await makeData();
    cleanups.push(() => data.cleanup());
    const token = await mint(USERS.creator);

    const first = await spawn(data.env);
    cleanups.push(() => first.kill());
    const load = await loadThenKill(first, token, mode);
    expect(load.unexpected).toEqual([]);
    expect(load.ackedRuns).toBeGreaterThanOrEqual(KILL_AFTER_RUNS);
    expect(load.ackedStatusCalls).toBeGreaterThan(0);
    // The kill cut off a run in progress: it happened mid-load.
    if (mode === 'stepper') expect(load.failed).toBeGreaterThan(0);

    const second = await spawn(data.env);
    cleanups.push(() => second.kill());
    const client = actionClient(second.url, { token });

    // Stored state, read without calling any callback: enumerate lists straight from the store.
    const listed = await client.enumerate({ status: 'active,inactive,succeeded,failed' });
    expect(listed.status).toBe(200);
    const stored = new Map<string, any>((listed.body as any[]).map((doc) => [doc.action_id, doc]));
    for (const [id, acked] of load.acked) {
      const doc = stored.get(id);
      expect(doc, `acknowledged action ${id} lost`).toBeDefined();
      expect(doc.creator_id).toBe(urn(USERS.creator));
      if (mode === 'echo') {
        expect(acked).toMatchObject({
          status: 'SUCCEEDED',
          details: { you_said: expect.stringMatching(/^said \d+$/) },
        });
        expect(doc).toEqual(acked);
        continue;
      }
      // A status call cut off by the kill may or may not have been stored: at most that many steps more.
      const pending = load.unanswered.get(id) ?? 0;
      expect(step(doc)).toBeGreaterThanOrEqual(step(acked));
      expect(step(doc)).toBeLessThanOrEqual(Math.min(STEPS, step(acked) + pending));
      if (step(doc) === step(acked)) expect(doc).toEqual(acked);
      expect(doc.status).toBe(step(doc) >= STEPS ? 'SUCCEEDED' : 'ACTIVE');
    }
    if (mode === 'stepper') {
      // The load reached every state: some actions were acknowledged ACTIVE mid-way, some SUCCEEDED.
      const steps = new Set([...load.acked.values()].map(step));
      expect(steps).toContain(0);
      expect([...steps].some((s) => s > 0 && s < STEPS)).toBe(true);
      expect(steps).toContain(STEPS);
    }

    // And over the status route (for the stepper, one more step, as its status callback runs).
    const entries = [...load.acked.entries()];
    const replies: ClientReply[] = await pool(entries, 50, ([id]) => client.status(id));
    replies.forEach((reply, i) => {
      const [id, acked] = entries[i] as [string, any];
      expect(reply.status, id).toBe(200);
      if (mode === 'echo') {
        expect(reply.body).toEqual(acked);
      } else {
        const before = stored.get(id);
        const expected = Math.min(STEPS, step(before) + 1);
        expect(reply.body).toMatchObject({
          action_id: id,
          status: expected >= STEPS ? 'SUCCEEDED' : 'ACTIVE',
          details: { said: acked.details.said, step: expected },
        });
      }
    });

    // The restarted provider takes new work.
    const fresh = await client.run({ request_id: 'after-restart', body: { input_string: 'again' } });
    expect(fresh.status).toBe(202);
  }, 60_000);
});
