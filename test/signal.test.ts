/**
 * @module test/signal: a callback's `signal` means the client went away before the answer, on
 * Node, Bun and Deno alike: it aborts when the client disconnects mid-request, and never after
 * the answer (Deno aborts every request's signal once its response is sent; that abort must
 * not reach work kept going with waitUntil).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionClient } from '../src/testing/index.ts';
import { mint, USERS } from './support/identities.ts';
import { BIN, type ProviderProcess, spawnHost } from './support/processes.ts';

const RUNTIMES = [
  { name: 'Node', command: process.execPath, args: ['--import', 'tsx', 'test/fixtures/signal-runtime.ts'] },
  { name: 'Bun', command: BIN('bun'), args: ['test/fixtures/signal-runtime.ts'] },
  { name: 'Deno', command: BIN('deno'), args: ['run', '-A', 'test/fixtures/signal-runtime.ts'] },
] as const;

const started: ProviderProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gap-signal-'));
afterAll(async () => {
  for (const p of started) await p.kill();
  rmSync(dir, { recursive: true, force: true });
});
const token = await mint(USERS.creator);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(RUNTIMES)('the callbacks’ signal on $name', (runtime) => {
  it('does not abort after the answer, and aborts when the client leaves before it', async () => {
    const file = join(dir, `${runtime.name}.txt`);
    const p = await spawnHost(runtime.command, [...runtime.args], { SIGNAL_FILE: file });
    started.push(p);
    const client = actionClient(p.url, { token });
    const reply = await client.run({ body: {} });
    expect(reply.status, reply.text).toBe(202);
    let details: Record<string, unknown> = {};
    for (let i = 0; i < 100 && !('abortedAfterAnswer' in details); i++) {
      await sleep(50);
      details = (await client.status(reply.body.action_id)).body.details;
    }
    expect(details).toEqual({ abortedAfterAnswer: false, lateRead: false });

    const controller = new AbortController();
    const leaving = fetch(`${p.url}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: 'leaves', body: { wait: true } }),
      signal: controller.signal,
    }).catch(() => undefined);
    await sleep(300);
    controller.abort();
    await leaving;
    let written = '';
    for (let i = 0; i < 120 && written === ''; i++) {
      await sleep(50);
      try {
        written = readFileSync(file, 'utf8');
      } catch {}
    }
    expect(written).toBe('true');
  });
});
