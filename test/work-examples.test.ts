/**
 * @module test/work-examples: the three long-running patterns of README, each example run as a
 * user runs it (its own process, a real port, the test key): (a) examples/checksum.ts, work in
 * the background with progress; (b) examples/poll-upstream.ts, the status callback polling an
 * upstream scheduler with the job id in `state`, across a restart; (c) examples/approval.ts, a
 * person completing the action through a second route.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startScheduler } from '../examples/upstream/scheduler.ts';
import { actionClient } from '../src/testing/index.ts';
import { mint, USERS } from './support/identities.ts';
import { type ProviderProcess, spawnHost } from './support/processes.ts';

const dirs: string[] = [];
const processes: ProviderProcess[] = [];
afterAll(async () => {
  for (const p of processes) await p.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-work-examples-'));
  dirs.push(dir);
  return dir;
};
const example = async (file: string, env: Record<string, string>) => {
  const p = await spawnHost(process.execPath, ['--import', 'tsx', `examples/${file}`], env);
  processes.push(p);
  return p;
};
const token = await mint(USERS.creator);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function settle(client: ReturnType<typeof actionClient>, id: string, seen: unknown[] = []) {
  for (let i = 0; i < 400; i++) {
    const { body } = await client.status(id);
    seen.push(body);
    if (body.status !== 'ACTIVE') return body;
    await sleep(25);
  }
  throw new Error('the action did not complete');
}

describe('(a) examples/checksum.ts: background work with progress', () => {
  it('checksums a file in chunks, checkpointing each, and keeps requests inside its root', async () => {
    const root = tempDir();
    const data = Buffer.alloc(3 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    writeFileSync(join(root, 'data.bin'), data);
    const p = await example('checksum.ts', {
      DATA_DIR: tempDir(),
      CHECKSUM_ROOT: root,
      CHUNK_BYTES: String(64 * 1024),
    });
    const client = actionClient(p.url, { token });
    const run = await client.run({ body: { path: 'data.bin' } });
    expect(run.status, run.text).toBe(202);
    const seen: { details: { done?: number } }[] = [];
    const final = await settle(client, run.body.action_id, seen);
    let expected = Buffer.alloc(0);
    for (let at = 0; at < data.length; at += 64 * 1024) {
      const chunk = createHash('sha256')
        .update(data.subarray(at, at + 64 * 1024))
        .digest();
      expected = createHash('sha256')
        .update(Buffer.concat([expected, chunk]))
        .digest();
    }
    expect(final).toMatchObject({
      status: 'SUCCEEDED',
      details: { size: data.length, algorithm: 'sha256-chain', checksum: expected.toString('hex') },
    });
    const done = seen.map((s) => s.details.done).filter((d): d is number => typeof d === 'number');
    expect(done).toEqual([...done].sort((a, b) => a - b)); // progress only ever goes forward
    for (const path of ['../../etc/passwd', '/etc/passwd', 'missing.bin']) {
      const refused = await client.run({ body: { path } });
      expect(refused.status, path).toBe(422);
      expect(refused.body.code).toBe('RequestValidationError');
    }
  });
});

describe('(b) examples/poll-upstream.ts: status polls an upstream system', () => {
  it('follows the job through status calls, survives a restart, and cancels upstream', async () => {
    const scheduler = await startScheduler(0);
    const env = { DATA_DIR: tempDir(), SCHEDULER_URL: scheduler };
    const first = await example('poll-upstream.ts', env);
    let client = actionClient(first.url, { token });
    const quick = await client.run({ body: { command: 'simulate', seconds: 1 } });
    expect(quick.body).toMatchObject({ status: 'ACTIVE', details: { percent: expect.any(Number) } });
    const long = await client.run({ body: { command: 'simulate', seconds: 600 } });
    await first.kill(); // nothing was running in the provider: the jobs go on upstream
    const second = await example('poll-upstream.ts', env);
    client = actionClient(second.url, { token });
    expect(await settle(client, quick.body.action_id)).toMatchObject({
      status: 'SUCCEEDED',
      details: { output: 'ran simulate' },
    });
    const canceled = await client.cancel(long.body.action_id);
    expect(canceled.body).toMatchObject({ status: 'FAILED', details: { code: 'ActionCanceled' } });
    const job = (await (await fetch(`${scheduler}/jobs/${canceled.body.details.job_id}`)).json()) as { state: string };
    expect(job.state).toBe('CANCELLED');
    expect(JSON.stringify(canceled.body)).not.toContain('jobId'); // state stays private
  });
});

describe('(c) examples/approval.ts: a person completes the action', () => {
  it('waits for the signed decision link, refuses forged ones, and takes one decision only', async () => {
    const p = await example('approval.ts', { DATA_DIR: tempDir(), APPROVAL_SECRET: 'test-secret' });
    const client = actionClient(p.url, { token });
    const run = await client.run({ body: { approver: 'pi@example.org', reason: 'Publish the dataset' } });
    expect(run.body).toMatchObject({ status: 'ACTIVE', display_status: 'Waiting for approval' });
    const id = run.body.action_id as string;
    let approve = '';
    let deny = '';
    for (let i = 0; i < 100 && (approve === '' || deny === ''); i++) {
      approve =
        new RegExp(`approve "Publish the dataset": POST (\\S+/decisions/${id}/approve\\S+)`).exec(p.output())?.[1] ??
        '';
      deny = new RegExp(`deny "Publish the dataset": POST (\\S+/decisions/${id}/deny\\S+)`).exec(p.output())?.[1] ?? '';
      await sleep(20);
    }
    const forged = await fetch(approve.replace(/sig=.*/, 'sig=AAAA'), { method: 'POST' });
    expect(forged.status).toBe(403);
    const swapped = await fetch(deny.replace('/deny?', '/approve?'), { method: 'POST' });
    expect(swapped.status).toBe(403);
    expect((await client.status(id)).body.status).toBe('ACTIVE');
    const approved = await fetch(approve, { method: 'POST' });
    expect(approved.status).toBe(200);
    expect((await client.status(id)).body).toMatchObject({ status: 'SUCCEEDED', display_status: 'Approved' });
    const late = await fetch(deny, { method: 'POST' });
    expect(late.status).toBe(409);
    expect((await client.status(id)).body.status).toBe('SUCCEEDED');
  });
});
