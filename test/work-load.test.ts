/**
 * @module test/work-load: 1,000 long actions working at once on one instance (a provider
 * process on SQLite, work of ten 300 ms chunks, each checkpointed): all run concurrently, all
 * complete, the process's memory stays bounded, and its event loop's delay is measured and
 * printed (README states it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionClient } from '../src/testing/index.ts';
import { pool } from './support/async.ts';
import { mint, USERS } from './support/identities.ts';
import { type ProviderProcess, spawnHost } from './support/processes.ts';

const ACTIONS = 1_000;
const dir = mkdtempSync(join(tmpdir(), 'gap-work-load-'));
let provider: ProviderProcess | undefined;
afterAll(async () => {
  await provider?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Stats {
  rss: number;
  heapUsed: number;
  loopP99: number;
  loopMax: number;
  running: number;
  counts: Record<string, number>;
}

describe('1,000 concurrent long actions on one instance (SQLite)', () => {
  it('runs them all at once with bounded memory, and measures the event loop', { timeout: 120_000 }, async () => {
    provider = await spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/work-provider.ts'], {
      DATA_DIR: dir,
      CONCURRENCY: String(ACTIONS),
      CHUNKS: '10',
      CHUNK_MS: '300',
      LEASE: '30000',
      HEARTBEAT: '5000',
      POLL: '200',
    });
    const url = provider.url;
    const stats = async (): Promise<Stats> => (await fetch(`${url}/__stats`)).json() as Promise<Stats>;
    const idle = await stats();
    const client = actionClient(url, { token: await mint(USERS.creator) });
    const began = performance.now();
    await pool(
      Array.from({ length: ACTIONS }, (_, i) => i),
      50,
      async () => {
        const reply = await client.run({ body: {} });
        expect(reply.status, reply.text).toBe(202);
      },
    );
    const submitted = performance.now() - began;
    let peakRunning = 0;
    let peakRss = idle.rss;
    let loopP99 = 0;
    let loopMax = 0;
    await stats(); // the delay while runs were submitted is the HTTP load's, not the work's
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = await stats();
      peakRunning = Math.max(peakRunning, now.running);
      peakRss = Math.max(peakRss, now.rss);
      loopP99 = Math.max(loopP99, now.loopP99);
      loopMax = Math.max(loopMax, now.loopMax);
      if ((now.counts['SUCCEEDED'] ?? 0) === ACTIONS) break;
      expect(performance.now() - began).toBeLessThan(90_000);
    }
    const total = performance.now() - began;
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    console.log(
      `${ACTIONS} actions (10 checkpoints each): submitted in ${(submitted / 1000).toFixed(1)} s, all SUCCEEDED after ` +
        `${(total / 1000).toFixed(1)} s; peak running ${peakRunning}; RSS ${mb(idle.rss)} MB idle, ${mb(peakRss)} MB peak; ` +
        `event loop delay while working: p99 ${loopP99.toFixed(1)} ms, max ${loopMax.toFixed(1)} ms`,
    );
    expect(peakRunning).toBeGreaterThan(ACTIONS * 0.9); // they ran concurrently, not in turns
    expect(peakRss - idle.rss).toBeLessThan(256 * 1024 * 1024); // bounded: well under 256 KB per running action
  });
});
