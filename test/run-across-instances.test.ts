/**
 * @module test/run-across-instances: idempotent run when several provider instances share a
 * store: a duplicate on another instance waits for the first run's acknowledged answer (never
 * the placeholder); a failed first run lets the duplicate run it; a placeholder left by an
 * instance that died mid-run is taken over after `runTimeout`; and a provider on PostgreSQL
 * exits cleanly on SIGTERM.
 */
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { memoryStore } from '../src/index.ts';
import { rid } from './support/actions.ts';
import { sleep } from './support/async.ts';
import { mint, USERS } from './support/identities.ts';
import { spawnNodeExample } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { record, storedRequest } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

describe('idempotent run across instances sharing a store', () => {
  it('a duplicate on another instance waits for the first run and answers its result', async () => {
    const store = memoryStore();
    let runs = 0;
    const slow = testProvider({
      store,
      run: async ({ request }) => {
        runs++;
        await sleep(200);
        return { status: 'SUCCEEDED', details: { done: request.body } };
      },
    });
    const other = testProvider({ store, run: () => ({ status: 'FAILED' }) });
    const token = await mint(USERS.creator);
    const request = { request_id: rid(), body: { n: 1 } };
    const first = inProcessClient(slow, { token }).run(request);
    await sleep(50);
    const duplicate = await inProcessClient(other, { token }).run(request);
    const original = await first;
    expect(original.status).toBe(202);
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toEqual(original.body);
    expect(duplicate.body).toMatchObject({ status: 'SUCCEEDED', details: { done: { n: 1 } } });
    expect(runs).toBe(1);
  });

  it('when the first run fails, the waiting duplicate runs it itself', async () => {
    const store = memoryStore();
    const failing = testProvider({
      store,
      run: async () => {
        await sleep(150);
        throw new Error('first instance failed');
      },
    });
    const healthy = testProvider({ store, run: () => ({ status: 'SUCCEEDED', details: { by: 'second' } }) });
    const token = await mint(USERS.creator);
    const request = { request_id: rid(), body: {} };
    const first = inProcessClient(failing, { token }).run(request);
    await sleep(30);
    const duplicate = await inProcessClient(healthy, { token }).run(request);
    expect((await first).status).toBe(500);
    expect(duplicate.status).toBe(202);
    expect(duplicate.body.details).toEqual({ by: 'second' });
  });

  it('takes over a placeholder abandoned by an instance that died mid-run, after runTimeout', async () => {
    const store = memoryStore();
    let now = Date.UTC(2026, 5, 1);
    const clock = () => now;
    const provider = testProvider({
      store,
      clock,
      runTimeout: 1_000,
      run: () => ({ status: 'SUCCEEDED', details: { rerun: true } }),
    });
    const token = await mint(USERS.creator);
    const requestId = rid();
    // What a crashed instance leaves behind: the placeholder (version 1) of a run never answered.
    const abandoned = record({
      action_id: 'abandoned',
      creator_id: `urn:globus:auth:identity:${USERS.creator}`,
      request_id: requestId,
      request: storedRequest(requestId, {}),
      start_time: new Date(now).toISOString().replace('Z', '+00:00'),
    });
    await store.create(abandoned);
    now += 1_000;
    const retry = await inProcessClient(provider, { token }).run({ request_id: requestId, body: {} });
    expect(retry.status).toBe(202);
    expect(retry.body.action_id).not.toBe('abandoned');
    expect(retry.body.details).toEqual({ rerun: true });
    expect(await store.get('abandoned')).toBeUndefined();
  });

  it('rejects a bad runTimeout at creation', () => {
    expect(() => testProvider({ runTimeout: 0 })).toThrow(/^runTimeout/);
  });
});

describe('a provider on PostgreSQL', () => {
  it('exits by itself on SIGTERM: the serve() helper closes the store after the server', async () => {
    const host = await spawnNodeExample({ DATABASE_URL: inject('databaseUrl') });
    onTestFinished(() => host.kill());
    const started = Date.now();
    host.child.kill('SIGTERM');
    const { code } = await host.exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
