/**
 * @module test/store-failures-sqlite: the embedded SQLite store locked by another connection,
 * full, read-only, and (in a provider process of its own) out of space under a file-size
 * limit set and lifted with prlimit. Each time under load: every answer is 2xx or 503
 * ServiceUnavailable with Retry-After, within the bound; reads keep working; writes come back by
 * themselves once the fault is lifted; nothing acknowledged is lost (in the process case, not
 * even across a restart); and the log names SQLite's real error, not ROLLBACK's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStore } from '../src/store/sqlite.ts';
import { actionClient } from '../src/testing/index.ts';
import { drill, expectNothingLost, expectOnly2xxOr503 } from './support/faults.ts';
import { mint, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { spawnDurableProvider } from './support/processes.ts';
import { testProvider } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

const dir = mkdtempSync(join(tmpdir(), 'gap-sqlite-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUSY_TIMEOUT = 300;
const SLACK = 2_000;

/** A provider on a fresh SQLite file, with that file's database handle for injecting faults. */
async function sqliteProvider() {
  const path = join(dir, `${crypto.randomUUID()}.db`);
  const db = new Database(path);
  const store = await sqliteStore(db, { busyTimeout: BUSY_TIMEOUT, retryAfter: 7 });
  const logger = captureLogger();
  const provider = testProvider({ store, logger, runTimeout: 1_000 });
  const client = inProcessClient(provider, { token: await mint(USERS.creator) });
  return { path, db, store, logger, client };
}

const pageCount = (db: Database.Database) => Number(db.pragma('page_count', { simple: true }));

describe('sqliteStore under failure', { timeout: 60_000 }, () => {
  it.each([
    [
      'locked by another connection (busy)',
      /SQLITE_BUSY/,
      (p: Awaited<ReturnType<typeof sqliteProvider>>) => {
        const holder = new Database(p.path);
        const lift = () => {
          holder.exec('COMMIT');
          holder.close();
        };
        return { inject: () => holder.exec('BEGIN IMMEDIATE'), lift };
      },
    ],
    [
      'full (max_page_count reached)',
      /SQLITE_FULL/,
      (p: Awaited<ReturnType<typeof sqliteProvider>>) => ({
        inject: () => p.db.pragma(`max_page_count = ${pageCount(p.db)}`),
        lift: () => p.db.pragma('max_page_count = 1073741823'),
      }),
    ],
    [
      'read-only (query_only)',
      /SQLITE_READONLY/,
      (p: Awaited<ReturnType<typeof sqliteProvider>>) => ({
        inject: () => p.db.pragma('query_only = ON'),
        lift: () => p.db.pragma('query_only = OFF'),
      }),
    ],
  ])(
    '%s: runs 503 with Retry-After, status still 200, writes back by themselves, nothing lost',
    async (_name, cause, fault) => {
      const p = await sqliteProvider();
      try {
        const d = await drill(p.client, fault(p));
        const unavailable = expectOnly2xxOr503(d, BUSY_TIMEOUT + SLACK, '7');
        expect(new Set(unavailable.map((o) => o.op))).toEqual(new Set(['run']));
        const reads = d.load.outcomes.filter((o) => o.op === 'status' && o.at > d.injectedAt && o.at < d.liftedAt);
        expect(reads.length).toBeGreaterThan(0);
        for (const o of reads) expect(o.status).toBe(200);
        await expectNothingLost(p.client, d);
        const logged = p.logger.lines.filter((line) => line.message === 'request failed');
        expect(logged.length).toBeGreaterThan(0);
        expect(logged.length).toBeLessThan(Math.min(5, unavailable.length));
        const text = p.logger.text();
        expect(text).toMatch(cause);
        expect(text).not.toContain('no transaction is active');
      } finally {
        await p.store.close?.();
      }
    },
  );

  it('a lock held for good costs one write the busy timeout; the next ones fail at once until it is released', async () => {
    const p = await sqliteProvider();
    const holder = new Database(p.path);
    try {
      holder.exec('BEGIN IMMEDIATE');
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        expect((await p.client.run({ body: { i } })).status).toBe(503);
        times.push(performance.now() - started);
      }
      expect(times[0]).toBeGreaterThanOrEqual(BUSY_TIMEOUT - 20);
      for (const ms of times.slice(1)) expect(ms).toBeLessThan(BUSY_TIMEOUT / 2);
      holder.exec('COMMIT');
      expect((await p.client.run({ body: { after: true } })).status).toBe(202);
      // Waiting is back once a write got the lock: a lock taken again is waited for in full.
      holder.exec('BEGIN IMMEDIATE');
      const started = performance.now();
      expect((await p.client.run({ body: { again: true } })).status).toBe(503);
      expect(performance.now() - started).toBeGreaterThanOrEqual(BUSY_TIMEOUT - 20);
      holder.exec('COMMIT');
    } finally {
      holder.close();
      await p.store.close?.();
    }
  });

  it('validates busyTimeout and retryAfter', async () => {
    for (const busyTimeout of [-1, 1.5, Number.NaN, '10' as never]) {
      await expect(sqliteStore(new Database(':memory:'), { busyTimeout })).rejects.toThrow(/busyTimeout/);
    }
    for (const retryAfter of [0, 1.5, 86_401, '5' as never]) {
      await expect(sqliteStore(new Database(':memory:'), { retryAfter })).rejects.toThrow(/retryAfter/);
    }
    for (const mmapSize of [-1, 1.5, Number.NaN, '10' as never]) {
      await expect(sqliteStore(new Database(':memory:'), { mmapSize })).rejects.toThrow(/mmapSize/);
    }
  });

  it('maps the file for reads, 2 GiB by default (SQLite caps it there), or as mmapSize says', async () => {
    const mapped = async (options: { mmapSize?: number }) => {
      const db = new Database(join(mkdtempSync(join(dir, 'mmap-')), 'actions.db'));
      const store = await sqliteStore(db, { ...options, closeDatabase: false });
      const [row] = db.pragma('mmap_size') as { mmap_size: number }[];
      await store.close?.();
      db.close();
      return row?.mmap_size;
    };
    expect(await mapped({})).toBe(2_147_418_112);
    expect(await mapped({ mmapSize: 0 })).toBe(0);
    expect(await mapped({ mmapSize: 65_536 })).toBe(65_536);
  });
});

describe('a provider process on SQLite out of space (RLIMIT_FSIZE, set and lifted with prlimit)', () => {
  it('answers runs 503 and reads 200 while writes fail, writes again once the limit is lifted, and loses nothing, even across a restart', async () => {
    const dataDir = mkdtempSync(join(dir, 'fsize-'));
    const token = await mint(USERS.creator);
    const host = await spawnDurableProvider({ DATA_DIR: dataDir });
    const pid = String(host.child.pid);
    const limit = (bytes: string) => execFileSync('prlimit', ['--pid', pid, `--fsize=${bytes}:unlimited`]);
    try {
      const client = actionClient(host.url, { token });
      const d = await drill(
        client,
        {
          // One page: every write past the WAL's first frame fails (EFBIG). A limit just above
          // the largest file failed nothing when a checkpoint had just reset the WAL, whose
          // frames are then written over its start, below the limit.
          inject: () => limit('4096'),
          lift: () => limit('unlimited'),
        },
        { body: (n) => ({ input_string: `said ${n}` }) },
      );
      const unavailable = expectOnly2xxOr503(d, SLACK);
      expect(new Set(unavailable.map((o) => o.op))).toEqual(new Set(['run']));
      console.info(
        `file-size limit: ${unavailable.length} runs answered 503, slowest ${Math.round(Math.max(...unavailable.map((o) => o.ms)))} ms; ` +
          `writing again ${Math.round(d.recoveredIn)} ms after the limit was lifted`,
      );
      await expectNothingLost(client, d);
      await host.stop();
      const again = await spawnDurableProvider({ DATA_DIR: dataDir });
      try {
        await expectNothingLost(actionClient(again.url, { token }), d);
      } finally {
        await again.stop();
      }
    } finally {
      await host.stop();
    }
  }, 60_000);
});
