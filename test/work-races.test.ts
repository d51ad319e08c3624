/**
 * @module test/work-races: background work where timing and failures meet (found by an
 * attacker's review): an update landing while `run` executes, a status callback making an action
 * ACTIVE again, close() while a leased job still reads its action, a job's end failing, a store
 * outage at the deadline, a resume as an attempt ends, and a callback's signal read after the answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ActionProvider, type ActionStore, memoryStore, sqlStore, type WorkContext } from '../src/index.ts';
import { openSqliteStore, syncSqliteDriver } from '../src/store/sqlite.ts';
import { memoryWorkEngine } from '../src/work/memory.ts';
import { sleep, until } from './support/async.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

const T = await tokens();
const FAST = { heartbeat: 50, lease: 500, retryDelay: 10, pollInterval: 20, shutdownGrace: 200 };
const dirs: string[] = [];
const providers: ActionProvider[] = [];
afterAll(async () => {
  for (const p of providers) await p.close().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const file = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-work-races-'));
  dirs.push(dir);
  return join(dir, 'actions.db');
};
const STORES: { name: string; open: () => Promise<ActionStore> }[] = [
  { name: 'memory', open: async () => memoryStore() },
  { name: 'sqlite', open: () => openSqliteStore(file()) },
];
const made = (p: ActionProvider) => {
  providers.push(p);
  return p;
};

describe.each(STORES)('races on $name', ({ open }) => {
  it('queues the work when the action is updated while run executes', async () => {
    let calls = 0;
    const p: ActionProvider = made(
      testProvider({
        store: await open(),
        worker: FAST,
        run: async ({ actionId }) => {
          await p.actions.update(actionId, { details: { webhook: 1 } });
          return { status: 'ACTIVE' };
        },
        work: async () => {
          calls++;
          return { status: 'SUCCEEDED' };
        },
      }),
    );
    const reply = await inProcessClient(p, { token: T.creator }).run({ body: {} });
    expect(reply.status).toBe(202);
    await until(async () => ((await p.actions.get(reply.body.action_id))?.status === 'SUCCEEDED' ? true : undefined));
    expect(calls).toBe(1);
  });

  it('queues the work when a status callback makes an INACTIVE action ACTIVE again', async () => {
    let calls = 0;
    const p = made(
      testProvider({
        store: await open(),
        worker: FAST,
        work: async () => {
          calls++;
          return calls === 1 ? { status: 'INACTIVE' } : { status: 'SUCCEEDED' };
        },
        status: ({ action }) => ({ status: action.status === 'INACTIVE' ? 'ACTIVE' : action.status }),
      }),
    );
    const client = inProcessClient(p, { token: T.creator });
    const id = (await client.run({ body: {} })).body.action_id as string;
    await until(async () => ((await p.actions.get(id))?.status === 'INACTIVE' ? true : undefined));
    expect((await client.status(id)).body.status).toBe('ACTIVE');
    await until(async () => ((await p.actions.get(id))?.status === 'SUCCEEDED' ? true : undefined));
    expect(calls).toBe(2);
  });
});

describe('work and a closing store', () => {
  it('starts no work once close() began, even for a job leased while it read its action', async () => {
    const base = memoryStore();
    let slow = false;
    let closed = false;
    const events: string[] = [];
    const store: ActionStore = {
      ...base,
      get: async (id) => {
        if (slow) await sleep(300);
        return base.get(id);
      },
      update: async (r) => {
        if (closed) events.push('update after close');
        return base.update(r);
      },
      close: async () => {
        closed = true;
      },
    };
    const p = testProvider({
      store,
      worker: { ...FAST, engine: memoryWorkEngine(store) },
      run: () => {
        slow = true;
        return { status: 'ACTIVE' };
      },
      work: async () => {
        events.push(closed ? 'work after close' : 'work before close');
        return { status: 'SUCCEEDED' };
      },
    });
    await p.worker?.start();
    expect((await inProcessClient(p, { token: T.creator }).run({ body: {} })).status).toBe(202);
    await p.close();
    events.push('closed');
    await sleep(800);
    expect(events).toEqual(['closed']);
  });

  it("logs a job's end that fails instead of an unhandled rejection (SQLite busy)", async () => {
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    try {
      const { DatabaseSync } = await import('node:sqlite');
      const inner = syncSqliteDriver(new DatabaseSync(file()) as never);
      let failDeletes = false;
      const driver = {
        ...inner,
        batch: async (
          statements: readonly { sql: string; params: readonly unknown[] }[],
          o?: { durable?: boolean },
        ) => {
          if (failDeletes && statements.some((x) => /DELETE FROM gap_work/.test(x.sql))) {
            throw new Error('SQLITE_BUSY: database is locked');
          }
          return inner.batch(statements, o);
        },
      };
      const store = sqlStore(driver as never);
      await store.migrate();
      let calls = 0;
      const p = made(
        testProvider({
          store,
          worker: { ...FAST, retryDelay: 300 },
          work: async () => {
            calls++;
            throw new Error('transient');
          },
        }),
      );
      const client = inProcessClient(p, { token: T.creator });
      const id = (await client.run({ body: {} })).body.action_id as string;
      await until(() => (calls >= 1 ? true : undefined));
      await sleep(50);
      failDeletes = true;
      expect((await client.cancel(id)).status).toBe(200);
      await sleep(800);
      failDeletes = false;
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });

  it('fails the action at its deadline even when the store was down then and the work ignores its signal', async () => {
    const base = memoryStore();
    let down = false;
    const store: ActionStore = {
      ...base,
      update: async (r) => {
        if (down) throw new Error('down');
        return base.update(r);
      },
    };
    const p = made(
      testProvider({
        store,
        worker: { ...FAST, engine: memoryWorkEngine(store) },
        work: async (_: WorkContext) => {
          await sleep(4_000);
          return { status: 'SUCCEEDED' };
        },
      }),
    );
    const client = inProcessClient(p, { token: T.creator });
    const deadline = new Date(Date.now() + 400).toISOString();
    const reply = await client.run({ body: {}, deadline });
    expect(reply.status, reply.text).toBe(202);
    await sleep(300);
    down = true; // the store is down for 2.5 s around the deadline
    await sleep(2_500);
    down = false;
    const final = await until(async () => {
      const a = await p.actions.get(reply.body.action_id);
      return a?.status === 'ACTIVE' ? undefined : a;
    }, 8_000);
    expect(final).toMatchObject({ status: 'FAILED', details: { code: 'DeadlineExceeded' } });
  }, 15_000);
});

describe('a resume as an attempt ends (memory engine)', () => {
  it('runs the resumed work once, without handing its lease back and forth', async () => {
    const base = memoryStore();
    let hook: ((id: string) => Promise<void>) | undefined;
    const store: ActionStore = {
      ...base,
      update: async (r) => {
        const stored = await base.update(r);
        if (r.status === 'INACTIVE' && hook !== undefined) {
          const h = hook;
          hook = undefined;
          await h(r.action_id);
        }
        return stored;
      },
    };
    let handles = 0;
    const inner = memoryWorkEngine(store);
    const engine = (settings: Parameters<typeof inner>[0]) => {
      const e = inner(settings);
      return {
        ...e,
        start: (h: Parameters<typeof e.start>[0]) =>
          e.start((job) => {
            handles++;
            return h(job);
          }),
      };
    };
    let calls = 0;
    const p: ActionProvider = made(
      testProvider({
        store,
        worker: { ...FAST, engine },
        work: async () => {
          calls++;
          return calls === 1 ? { status: 'INACTIVE' } : { status: 'SUCCEEDED' };
        },
      }),
    );
    hook = async (id) => {
      await p.actions.update(id, { status: 'ACTIVE' });
    };
    const id = (await inProcessClient(p, { token: T.creator }).run({ body: {} })).body.action_id as string;
    await until(async () => ((await p.actions.get(id))?.status === 'SUCCEEDED' ? true : undefined));
    expect(calls).toBe(2);
    expect(handles).toBeLessThanOrEqual(3);
  });
});
