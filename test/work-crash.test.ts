/**
 * @module test/work-crash: background work in real provider processes on SQLite. Killed with
 * SIGKILL mid-work, the work resumes after a restart from its last checkpoint, as the next
 * attempt, once the dead process's lease runs out; no action completes twice and no checkpoint
 * a client saw is lost. Stopped with SIGTERM on Node, Bun and Deno, running work is aborted
 * after the grace period, its lease given back (the restart takes it at once, the attempt not
 * counted), and nothing touches the closed store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionClient } from '../src/testing/index.ts';
import { sleep, until } from './support/async.ts';
import { mint, USERS } from './support/identities.ts';
import { BIN, type ProviderProcess, spawnHost } from './support/processes.ts';

const dirs: string[] = [];
const running: ProviderProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const RUNTIMES = [
  { name: 'Node', command: process.execPath, args: ['--import', 'tsx', 'test/fixtures/work-provider.ts'] },
  { name: 'Bun', command: BIN('bun'), args: ['test/fixtures/work-provider.ts'] },
  { name: 'Deno', command: BIN('deno'), args: ['run', '-A', 'test/fixtures/work-provider.ts'] },
] as const;

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'gap-work-crash-'));
  dirs.push(dir);
  const attempts = join(dir, 'attempts.log');
  const done = join(dir, 'done.log');
  writeFileSync(attempts, '');
  writeFileSync(done, '');
  const lines = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
  return { dir, attempts, done, attemptLines: () => lines(attempts), doneLines: () => lines(done) };
}

async function spawn(runtime: (typeof RUNTIMES)[number], env: Record<string, string>) {
  const p = await spawnHost(runtime.command, [...runtime.args], env);
  running.push(p);
  return p;
}

const token = await mint(USERS.creator);

describe('background work killed with SIGKILL (SQLite)', () => {
  it('resumes after a restart from the last checkpoint, once, as the next attempt', async () => {
    const f = files();
    const env = {
      DATA_DIR: f.dir,
      ATTEMPTS_FILE: f.attempts,
      DONE_FILE: f.done,
      LEASE: '2000',
      HEARTBEAT: '200',
      CHUNK_MS: '100',
    };
    const first = await spawn(RUNTIMES[0], { ...env, INSTANCE: 'first' });
    const client = actionClient(first.url, { token });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await client.run({ body: { chunks: 20 } });
      expect(reply.status, reply.text).toBe(202);
      ids.push(reply.body.action_id);
    }
    // Poll until every action is a few chunks in, remembering the newest checkpoint seen.
    const seen = new Map<string, number>();
    const poll = async (c: ReturnType<typeof actionClient>) => {
      for (const id of ids) {
        const { body } = await c.status(id);
        if (body.status !== 'ACTIVE') continue;
        const chunk = Number(body.details?.chunk ?? 0);
        expect(chunk).toBeGreaterThanOrEqual(seen.get(id) ?? 0); // never a regression
        seen.set(id, chunk);
      }
    };
    await until(async () => {
      await poll(client);
      return [...seen.values()].every((chunk) => chunk >= 4) ? true : undefined;
    }, 30_000);
    const killedAt = performance.now();
    await first.kill();
    expect(f.doneLines()).toEqual([]);

    const second = await spawn(RUNTIMES[0], { ...env, INSTANCE: 'second' });
    const client2 = actionClient(second.url, { token });
    await until(async () =>
      f.attemptLines().filter((l) => l[3] === 'second').length === ids.length ? true : undefined,
    );
    const takenUp = performance.now() - killedAt;
    console.log(`work of a killed process taken up ${Math.round(takenUp)} ms after the kill (lease 2,000 ms)`);
    expect(takenUp).toBeLessThan(2_000 + second.startedIn + 2_000);
    const finals = new Map<string, { completion_time: string }>();
    await until(async () => {
      await poll(client2);
      for (const id of ids) {
        const { body } = await client2.status(id);
        if (body.status !== 'ACTIVE') finals.set(id, body);
      }
      return finals.size === ids.length ? true : undefined;
    }, 30_000);
    for (const id of ids) {
      const taken = f.attemptLines().filter((l) => l[0] === id);
      expect(taken.map((l) => [l[1], l[3]])).toEqual([
        ['1', 'first'],
        ['2', 'second'],
      ]);
      // The second attempt started at or after the newest checkpoint a client saw before the kill.
      expect(Number(taken[1]?.[2])).toBeGreaterThanOrEqual(4);
      expect(finals.get(id)).toMatchObject({ status: 'SUCCEEDED', details: { chunks: 20, attempt: 2 } });
    }
    expect(
      f
        .doneLines()
        .map((l) => l[0])
        .sort(),
    ).toEqual([...ids].sort()); // each completed once
    await sleep(500);
    for (const id of ids) {
      expect((await client2.status(id)).body.completion_time).toBe(finals.get(id)?.completion_time);
    }
  });
});

describe.each(RUNTIMES)('background work stopped with SIGTERM on $name (SQLite)', (runtime) => {
  it('aborts running work after the grace period, hands it back, and closes the store last', async () => {
    const f = files();
    const env = {
      DATA_DIR: f.dir,
      ATTEMPTS_FILE: f.attempts,
      DONE_FILE: f.done,
      LEASE: '30000', // a restart that waited for the lease would time out the test
      GRACE: '300',
      CHUNK_MS: '100',
      LOG: 'warn',
    };
    const first = await spawn(runtime, { ...env, INSTANCE: 'first' });
    const client = actionClient(first.url, { token });
    const long = await client.run({ body: { chunks: 50 } });
    const short = await client.run({ body: { chunks: 4 } });
    const id = long.body.action_id as string;
    await until(async () => (Number((await client.status(id)).body.details?.chunk ?? 0) >= 2 ? true : undefined));
    const signalled = performance.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    const stoppedIn = performance.now() - signalled;
    console.log(`${runtime.name}: SIGTERM to exit with work in flight: ${Math.round(stoppedIn)} ms (grace 300 ms)`);
    expect(exit.code ?? 0).toBe(0);
    expect(stoppedIn).toBeLessThan(5_000);
    expect(first.output()).not.toMatch(/"level":"error"|not open|closed/i);
    // The short work finished within the grace period.
    expect(f.doneLines().map((l) => l[0])).toEqual([short.body.action_id]);

    const second = await spawn(runtime, { ...env, INSTANCE: 'second' });
    const resumedAt = performance.now();
    await until(() => (f.attemptLines().some((l) => l[0] === id && l[3] === 'second') ? true : undefined), 10_000);
    console.log(
      `${runtime.name}: handed-back work taken up ${Math.round(performance.now() - resumedAt)} ms after the restart`,
    );
    const again = f.attemptLines().filter((l) => l[0] === id);
    expect(again.map((l) => [l[1], l[3]])).toEqual([
      ['1', 'first'],
      ['1', 'second'], // a shutdown is not an attempt
    ]);
    expect(Number(again[1]?.[2])).toBeGreaterThanOrEqual(2);
    await second.kill();
  });
});
