/**
 * @module work/durable-object: the engine of the D1 store on Cloudflare Workers. A Worker keeps
 * no timer past its request and its isolate may go at any time, so nothing here polls: the work
 * row goes into D1 in the same batch as the action (work/sql.ts's table and statements), then
 * the action's own Durable Object (`idFromName(action_id)`) is told, and its alarm leases the
 * row and runs the work (adapters/cloudflare-work-object.ts). A wake-up lost between the two (the
 * Worker died in between) is what the Worker's Cron Trigger repairs with `recover`.
 */
import { logSafe } from '../logger.ts';
import { decodeKey } from '../store/sql-encoding.ts';
import { inspectWork, leasedJob, type SqlWorkTables, workLag, workQueries } from './sql.ts';
import type { EngineFactory, LeasedJob, WorkEngine } from './types.ts';

/** The part of a Durable Object namespace binding (`env.ACTION_WORK`) the engine uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): DurableObjectIdLike;
  get(id: DurableObjectIdLike): DurableObjectStubLike;
}
export interface DurableObjectIdLike {
  toString(): string;
}
export interface DurableObjectStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** What the action's Durable Object is told, as the path of a POST to it (adapters/cloudflare-work-object.ts). */
export type WorkObjectMessage = 'wake' | 'notice';

/** Any origin reaches a Durable Object through its stub; this one says what it is in a log. */
const ORIGIN = 'https://action-work.durable-object';
/**
 * Objects one `recover` wakes: each wake-up is a subrequest, and a Worker's invocation may make
 * 50 on the free plan (1,000 on a paid one). The rest wait for the next Cron Trigger.
 */
const RECOVER_LIMIT = 40;

/** Tell the Durable Object of `actionId` to `message`; rejects unless it answered 2xx. */
export async function tellWorkObject(
  namespace: DurableObjectNamespaceLike,
  message: WorkObjectMessage,
  actionId: string,
): Promise<void> {
  const stub = namespace.get(namespace.idFromName(actionId));
  const response = await stub.fetch(`${ORIGIN}/${message}?action_id=${encodeURIComponent(actionId)}`, {
    method: 'POST',
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the Durable Object of the action answered ${response.status} to ${message}`);
}

/**
 * The engine over the D1 store's `tables`, with one Durable Object of `namespace` per action.
 * In the Worker it schedules (D1, then a wake-up), tells a cancel to the object running the work,
 * and recovers lost wake-ups; in the object, the alarm `take`s the action's work.
 */
export function durableObjectEngine(tables: SqlWorkTables, namespace: DurableObjectNamespaceLike): EngineFactory {
  return (settings): WorkEngine => {
    const { driver: db, prefix, update } = tables;
    const q = workQueries(prefix);
    const { clock, owner, lease, logger } = settings;
    let handler: ((job: LeasedJob) => Promise<void>) | undefined;
    /** The actions whose work this instance (this Durable Object) is taking now. */
    const taking = new Set<string>();

    /** A wake-up that did not arrive is logged, not thrown: the row is in D1 and the Cron Trigger wakes it. */
    const wake = (actionId: string): Promise<boolean> =>
      tellWorkObject(namespace, 'wake', actionId).then(
        () => true,
        (error: unknown) => {
          logger.warn('the Durable Object of an action could not be woken; the Cron Trigger will wake it', {
            action_id: actionId,
            error: logSafe(error),
          });
          return false;
        },
      );

    return {
      name: 'durable-object',
      async schedule(record) {
        const [updated] = await db.batch([update(record), q.enqueue(record, clock())]);
        // One row at most; D1 also counts the principals rows a status change copies to.
        if ((updated?.changes ?? 0) === 0) return undefined;
        // Awaited, so the object has its alarm before the client has its answer: only a Worker
        // that dies in between leaves the work to the Cron Trigger.
        await wake(record.action_id);
        return record;
      },
      async start(handle) {
        handler = handle;
      },
      async stop() {
        handler = undefined;
      },
      inspect: (actionIds) => inspectWork(db, q, actionIds),
      lag: () => workLag(db, q, clock()),
      async changed(actionId) {
        if (taking.has(actionId)) return; // the runner here stopped it already
        await tellWorkObject(namespace, 'notice', actionId);
      },
      wake: {
        async take(actionId) {
          const handle = handler;
          if (handle === undefined) throw new Error('take: the engine is not started');
          if (taking.has(actionId)) return 'running';
          taking.add(actionId);
          try {
            const [claimed] = await db.batch([q.takeOver(actionId, owner, clock(), lease)]);
            const row = claimed?.rows[0];
            if (row !== undefined) await handle(leasedJob(db, q, settings, actionId, Number(row['attempts'])));
            // Gone (done), queued for a retry, handed back, or still leased here (its result could
            // not be stored): the object's next alarm goes where the row says.
            const { rows } = await db.execute(q.dueAt(actionId));
            return rows[0] === undefined ? null : Number(rows[0]['due_at']);
          } finally {
            taking.delete(actionId);
          }
        },
        async recover() {
          // Work whose action is gone (released, expired and swept) has nothing to wake.
          await db.batch([q.orphans()]);
          const { rows } = await db.execute(q.due(clock(), RECOVER_LIMIT));
          const woken = await Promise.all(rows.map((row) => wake(decodeKey(String(row['action_id'])))));
          return woken.filter(Boolean).length;
        },
      },
    };
  };
}
