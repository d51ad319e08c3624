/**
 * @module test/client-wait: the client's `waitFor` against a provider on a real port whose
 * status callback answers ACTIVE for a given number of reads. The clock and sleep are injected,
 * so the back-off is seen as the intervals asked for (1 s doubling to the cap, as Flows) without
 * waiting for them; the deadline, the signal, INACTIVE, `until`, retries of transient failures
 * (503, no answer) and not of others (404), its options checked; and the client in a Worker (workerd).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../adapters/node.ts';
import { type ActionProviderClientOptions, type ActionStatus, actionProviderClient } from '../src/client/index.ts';
import { ActionError } from '../src/index.ts';
import { startWorker } from './support/hosts.ts';
import { mint, USERS } from './support/identities.ts';
import { field, testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

/** Reads of each action's status so far (test state, per action id). */
const reads = new Map<string, number>();
/**
 * Status reads answer ACTIVE (display status `read <n>`) until the `after`-th, which answers
 * `end` (default SUCCEEDED); reads listed in `fail` answer 503 instead.
 */
const provider = testProvider({
  run: () => ({ status: 'ACTIVE', display_status: 'Queued' }),
  status: ({ action }) => {
    if (action.state?.['resumed'] === true) return { status: 'SUCCEEDED', display_status: 'resumed' };
    const n = (reads.get(action.action_id) ?? 0) + 1;
    reads.set(action.action_id, n);
    const body = action.request.body;
    if ((field(body, 'fail') as number[] | undefined)?.includes(n))
      throw new ActionError('ServiceUnavailable', 'try again later');
    if (n < (field(body, 'after') as number))
      return { status: 'ACTIVE', display_status: `read ${n}`, details: { read: n } };
    const end = (field(body, 'end') as 'SUCCEEDED' | 'FAILED' | 'INACTIVE' | undefined) ?? 'SUCCEEDED';
    return { status: end, display_status: `ended at read ${n}`, details: { read: n } };
  },
  resume: () => ({ status: 'ACTIVE', state: { resumed: true } }),
});

let server: RunningServer;
let token: string;
beforeAll(async () => {
  server = await listen(provider);
  token = await mint(USERS.creator);
});
afterAll(() => server.close());

/** A clock that only the injected sleep moves, and the intervals that sleep was asked for. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const slept: number[] = [];
  const options: ActionProviderClientOptions = {
    clock: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
    },
  };
  return { options, slept, now: () => now, start };
}

async function started(body: Record<string, unknown>, options: ActionProviderClientOptions = {}) {
  const client = actionProviderClient(server.url, { token, ...options });
  const { action_id } = await client.run({ body });
  return { client, id: action_id };
}

describe('waitFor: the back-off', () => {
  it('reads at once, then after 1 s, 2 s, 4 s, ... doubling to the cap, and resolves with the completed status', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 9 }, time.options);
    const seen: string[] = [];
    const done = await client.waitFor(id, { maxDelay: 30_000, onStatus: (s) => void seen.push(s.display_status) });
    expect(done).toMatchObject({ action_id: id, status: 'SUCCEEDED', details: { read: 9 } });
    expect(time.slept).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(seen).toEqual([
      'read 1',
      'read 2',
      'read 3',
      'read 4',
      'read 5',
      'read 6',
      'read 7',
      'read 8',
      'ended at read 9',
    ]);
  });

  it('by default goes on doubling up to 10 minutes, as Flows does', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 13 }, time.options);
    await client.waitFor(id);
    expect(time.slept).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600].map((s) => s * 1_000));
  });

  it('takes its own first interval and factor', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 5 }, time.options);
    await client.waitFor(id, { initialDelay: 100, factor: 3, maxDelay: 1_000 });
    expect(time.slept).toEqual([100, 300, 900, 1_000]);
  });

  it('resolves at once, with no sleep, when the first read has already settled', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 1, end: 'FAILED' }, time.options);
    expect((await client.waitFor(id)).status).toBe('FAILED');
    expect(time.slept).toEqual([]);
  });

  it('polls with the real sleep when none is injected', async () => {
    const { client, id } = await started({ after: 3 });
    const done = await client.waitFor(id, { initialDelay: 5, maxDelay: 10 });
    expect(done.details).toEqual({ read: 3 });
  });
});

describe('waitFor: INACTIVE and `until`', () => {
  it('stops at INACTIVE by default (a person must act) and resolves with it', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 2, end: 'INACTIVE' }, time.options);
    expect((await client.waitFor(id)).status).toBe('INACTIVE');
    expect(time.slept).toEqual([1_000]);
  });

  it('with `until` leaving INACTIVE out, it keeps polling through INACTIVE until the action completes', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 2, end: 'INACTIVE' }, time.options);
    const statuses: string[] = [];
    const done = await client.waitFor(id, {
      until: ['SUCCEEDED', 'FAILED'],
      onStatus: async (s: ActionStatus) => {
        statuses.push(s.status);
        // Someone resumes it while it waits; it completes on the next read.
        if (statuses.filter((seen) => seen === 'INACTIVE').length === 2) await client.resume(id);
      },
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', display_status: 'resumed' });
    expect(statuses).toEqual(['ACTIVE', 'INACTIVE', 'INACTIVE', 'SUCCEEDED']);
    expect(time.slept).toEqual([1_000, 2_000, 4_000]);
  });
});

describe('waitFor: the deadline', () => {
  it('reads a last time at the deadline, then rejects with DeadlineExceeded and the last status', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 100 }, time.options);
    const error = await client.waitFor(id, { deadline: time.start + 5_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ActionProviderError',
      code: 'DeadlineExceeded',
      status: undefined,
      action: { action_id: id, status: 'ACTIVE', details: { read: 4 } },
    });
    expect((error as Error).message).toMatch(/the deadline passed while it was ACTIVE/);
    // 1 s, 2 s, then only the 2 s left to the deadline.
    expect(time.slept).toEqual([1_000, 2_000, 2_000]);
    expect(time.now()).toBe(time.start + 5_000);
  });

  it('takes a Date, and a deadline already past still reads once', async () => {
    const time = fakeTime(Date.parse('2030-01-01T00:00:00Z'));
    const { client, id } = await started({ after: 100 }, time.options);
    const error = await client.waitFor(id, { deadline: new Date('2029-12-31T23:59:59Z') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DeadlineExceeded', action: { details: { read: 1 } } });
    expect(time.slept).toEqual([]);
  });
});

describe('waitFor: the signal', () => {
  it('aborted between reads: rejects with its reason, no further read', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 100 }, time.options);
    const controller = new AbortController();
    const reason = new Error('user pressed ^C');
    const waiting = client.waitFor(id, {
      signal: controller.signal,
      onStatus: (s) => {
        if (s.details['read'] === 3) controller.abort(reason);
      },
    });
    await expect(waiting).rejects.toBe(reason);
    expect(reads.get(id)).toBe(3);
  });

  it('aborted during the real sleep: rejects at once with its reason', async () => {
    const { client, id } = await started({ after: 100 });
    const controller = new AbortController();
    const waiting = client.waitFor(id, { signal: controller.signal, initialDelay: 60_000 });
    setTimeout(() => controller.abort(new Error('enough')), 50);
    await expect(waiting).rejects.toThrow('enough');
    expect(reads.get(id)).toBe(1);
  });

  it('already aborted: rejects without reading', async () => {
    const { client, id } = await started({ after: 100 });
    await expect(client.waitFor(id, { signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow('no');
    expect(reads.get(id)).toBeUndefined();
  });
});

describe('waitFor: failures', () => {
  it('retries a 503 on the same schedule, then goes on', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 4, fail: [2, 3] }, time.options);
    expect(await client.waitFor(id)).toMatchObject({ status: 'SUCCEEDED', details: { read: 4 } });
    expect(time.slept).toEqual([1_000, 2_000, 4_000]);
  });

  it('gives up after `retries` transient failures in a row, rejecting with the last', async () => {
    const time = fakeTime();
    const { client, id } = await started({ after: 100, fail: [2, 3, 4] }, time.options);
    await expect(client.waitFor(id, { retries: 2 })).rejects.toMatchObject({
      status: 503,
      code: 'ServiceUnavailable',
    });
    expect(reads.get(id)).toBe(4);
  });

  it('retries no answer (the provider restarting); not a 404', async () => {
    const time = fakeTime();
    const gone = await listen(provider);
    const url = gone.url;
    await gone.close();
    const offline = actionProviderClient(url, { token, ...time.options });
    await expect(offline.waitFor('x', { retries: 2 })).rejects.toMatchObject({ code: 'NetworkError' });
    expect(time.slept).toEqual([1_000, 2_000]);
    const missing = actionProviderClient(server.url, { token, ...time.options });
    await expect(missing.waitFor('no-such-action')).rejects.toMatchObject({ status: 404, code: 'ActionNotFound' });
    expect(time.slept).toEqual([1_000, 2_000]);
  });
});

describe('waitFor: options, checked when called', () => {
  const client = actionProviderClient('http://127.0.0.1:9', { token: 'x' });
  it.each([
    [{ initialDelay: 0 }, /initialDelay must be a positive number/],
    [{ initialDelay: Number.NaN }, /initialDelay must be a positive number/],
    [{ initialDelay: 2_000, maxDelay: 1_000 }, /maxDelay must be a number of ms no less than initialDelay/],
    [{ factor: 0.5 }, /factor must be a number of at least 1/],
    [{ until: [] }, /until must list at least one status/],
    [{ retries: -1 }, /retries must be a whole number/],
    [{ deadline: 'tomorrow' }, /deadline must be a Date or a time in ms/],
    [{ deadline: new Date('nonsense') }, /deadline must be a Date or a time in ms/],
    [{ onStatus: 'log' }, /onStatus must be a function/],
  ])('%o: a TypeError naming it', async (options, message) => {
    const waiting = client.waitFor('x', options as never);
    await expect(waiting).rejects.toThrow(TypeError);
    await expect(waiting).rejects.toThrow(message);
  });
});

describe('on workerd', () => {
  it('the client runs in a Worker: run, waitFor with the real sleep, and a typed error', async () => {
    const worker = await startWorker('test/fixtures/client-worker.ts', { PROVIDER_URL: server.url, TOKEN: token });
    try {
      const answer = await (await fetch(`${worker.url}/`)).json();
      expect(answer).toEqual({
        title: 'Test provider',
        ran: 'ACTIVE',
        done: 'SUCCEEDED',
        details: { read: 2 },
        missing: '404 ActionNotFound',
      });
    } finally {
      await worker.stop();
    }
  });
});
