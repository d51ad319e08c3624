/**
 * @module work/pg-boss: the PostgreSQL store's engine, on pg-boss 12, for several provider
 * instances sharing one database. pg-boss holds the jobs, claims them (`SKIP LOCKED`), fences
 * every settle to the attempt that claimed it, and its supervisor puts back the job of an
 * instance whose heartbeat stopped (a crash): no scheduler of our own. The action's update and
 * its job commit in one transaction of the store's own client, which pg-boss runs on too.
 *
 * How the LeasedJob maps, every call fenced to the claim (`{ id, retryCount }`): `heartbeat` is
 * `touch`; `complete` is `complete` (then, if a resume made the action ACTIVE meanwhile, a new
 * job); `retry(delay)` is `fail` (pg-boss re-queues at once) then `update({ startAfter })` in one
 * transaction; `release` is `fail` then `update` of the job's `uncounted` claims (a claim given
 * back is no attempt), also in one transaction: pg-boss has no public way to give a job back
 * unclaimed. `attempt` is `retryCount + 1 - uncounted`: a crash's take-up counts, a release does not.
 */
import { logSafe } from '../logger.ts';
import type { ActionRecord } from '../model.ts';
import { withDeadline } from '../store/deadline.ts';
import { isUnavailable, postgresUnavailable, StoreTimeoutError, storeUnavailable } from '../store/failures.ts';
import { numberedPlaceholders, type PostgresClient, transaction } from '../store/postgres-client.ts';
import { decodeKey, encodeKey } from '../store/sql-encoding.ts';
import { sqlQueries } from '../store/sql-queries.ts';
import { rejectUnknownKeys } from '../validation/known-keys.ts';
import { type BossDatabase, bossDatabase } from './pg-boss-db.ts';
import {
  type Boss,
  type BossJob,
  type BossJobInfo,
  checkPrefix,
  checkSchema,
  loadPgBoss,
  queueName,
  queueOptions,
} from './pg-boss-schema.ts';
import { type Claimed, poller } from './poller.ts';
import type { EngineSettings, LeasedJob, WorkEngine, WorkInfo } from './types.ts';

export interface PgBossEngineOptions {
  /** The store's `postgres` client (porsager/postgres): pg-boss runs on it, with no pool of its own. */
  sql: PostgresClient;
  /** The store's table prefix. Default `gap_`. The queue is `<prefix>work`. */
  tablePrefix?: string;
  /** pg-boss's schema. Default `pgboss`. */
  schema?: string;
  /**
   * Install or upgrade pg-boss's schema when work first runs. Default true; with false it must
   * exist (`pgBossSchemaSql()`, or `npx pg-boss migrate`).
   */
  migrate?: boolean;
  /** Milliseconds any one call may take, as the store's `statementTimeout`. Default 5,000. */
  statementTimeout?: number;
  /** Calls inside the client at once, as the store's `max`. Default 10. */
  max?: number;
  /** The `Retry-After` (seconds) of the 503 a run gets when its work cannot be queued. Default 5. */
  retryAfter?: number;
}

/** An engine factory that also stops the pg-boss instances it made (the store's close calls it). */
export interface PgBossEngine {
  (settings: EngineSettings): WorkEngine;
  close(): Promise<void>;
}

const KEYS = ['sql', 'tablePrefix', 'schema', 'migrate', 'statementTimeout', 'max', 'retryAfter'] as const;

/** pg-boss's heartbeat is whole seconds, at least 10 (attorney.js validateHeartbeatConfig). */
const MIN_LEASE = 10_000;
/** Jobs looked up at once by `inspect` (a statement each: pg-boss finds jobs by one key). */
const INSPECT_AT_ONCE = 10;
const MAX_TIMER = 2_147_483_647;
/** Starts tried while other instances install the schema at the same moment. */
const INSTALL_TRIES = 6;
/**
 * Errors of instances installing pg-boss's schema at once. Its install holds a lock, yet on this
 * client the loser's CREATE SCHEMA IF NOT EXISTS can still collide (23505 in pg_namespace) where
 * pg-boss expects only "already exists"; a start a moment later finds the schema installed.
 */
const RACE_STATES = new Set(['23505', '42P06', '42P07', '42710', '40P01']);
const installRace = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && RACE_STATES.has(code)) || /already exists/.test(String(message));
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What each job carries: the action (its key as stored) and the claims given back unused. */
interface JobData {
  action: string;
  uncounted: number;
}

const jobData = (actionId: string, uncounted: number): JobData => ({ action: encodeKey(actionId), uncounted });

/** A job still to run, or running (pg-boss keeps finished ones a while). */
const live = (job: BossJobInfo): boolean => job.state === 'created' || job.state === 'retry' || job.state === 'active';

/** Thrown inside schedule's transaction to roll it back on a version conflict. */
const CONFLICT = Symbol('version conflict');

function readData(job: BossJob): { actionId: string; uncounted: number } | undefined {
  const data = job.data as Partial<JobData> | null;
  if (typeof data?.action !== 'string') return undefined;
  return {
    actionId: decodeKey(data.action),
    uncounted: Number.isSafeInteger(data.uncounted) ? Number(data.uncounted) : 0,
  };
}

const time = (value: Date | string | null): number | null => (value === null ? null : new Date(value).getTime());

function integer(value: unknown, fallback: number, name: string, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isSafeInteger(resolved) || resolved < min || resolved > max) {
    throw new TypeError(`${name}: must be an integer from ${min} to ${max}`);
  }
  return resolved;
}

/**
 * The engine of a PostgreSQL store: postgresStore advertises it, so a provider on that store
 * needs nothing more. Pass one to `worker.engine` for other settings (pg-boss's schema), over
 * the store's own client and tables; then `await engine.close()` (it stops pg-boss's supervisor)
 * before the client closes.
 *
 * @example
 * ```ts
 * const sql = postgres(process.env.DATABASE_URL)
 * const store = await postgresStore({ sql, tablePrefix: 'echo_' })
 * const engine = pgBossEngine({ sql, tablePrefix: 'echo_', schema: 'jobs' })
 * createActionProvider({ ..., store, work, worker: { engine } })
 * ```
 */
export function pgBossEngine(options: PgBossEngineOptions): PgBossEngine {
  if (typeof options !== 'object' || options === null) throw new TypeError('pgBossEngine: options must be an object');
  rejectUnknownKeys(options, KEYS, 'pgBossEngine');
  const { sql } = options;
  if (typeof sql?.unsafe !== 'function' || typeof sql.begin !== 'function') {
    throw new TypeError('sql: must be a postgres client (npm install postgres)');
  }
  const prefix = checkPrefix(options.tablePrefix ?? 'gap_');
  const schema = checkSchema(options.schema ?? 'pgboss');
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') {
    throw new TypeError('migrate: must be a boolean');
  }
  const migrate = options.migrate !== false;
  const timeout = integer(options.statementTimeout, 5_000, 'statementTimeout', 1, MAX_TIMER);
  const max = integer(options.max, 10, 'max', 1, 10_000);
  const retryAfter = integer(options.retryAfter, 5, 'retryAfter', 1, 86_400);

  const queue = queueName(prefix);
  const update = sqlQueries('postgres', prefix).update;
  const text = numberedPlaceholders();
  const statusOf = `SELECT status FROM ${prefix}actions WHERE action_id = $1`;
  // Due, not yet claimed (created or retry, before active in pg-boss's enum): the oldest one's wait.
  const oldestDue =
    `SELECT (EXTRACT(EPOCH FROM (now() - MIN(start_after))) * 1000)::float8 AS lag FROM ${schema}.job ` +
    `WHERE name = $1 AND state < 'active' AND start_after <= now()`;
  const bounded = withDeadline({ concurrency: max, timeout, what: 'PostgreSQL' });
  const db = bossDatabase(sql, bounded);
  /** `work` in one transaction of the store's client, bounded like every store call. */
  const inTransaction = <T>(work: (tx: PostgresClient, txDb: BossDatabase) => Promise<T>): Promise<T> =>
    bounded((abandoned) =>
      transaction(sql, async (tx) => {
        const result = await work(tx, bossDatabase(tx));
        // Past the deadline the caller was told it failed: roll back rather than commit.
        if (abandoned()) throw new StoreTimeoutError('transaction abandoned after its deadline');
        return result;
      }),
    );
  const stops = new Set<() => Promise<void>>();
  let closed = false;

  const factory = (settings: EngineSettings): WorkEngine => {
    const { owner, concurrency, lease, pollInterval, logger } = settings;
    if (lease < MIN_LEASE) {
      throw new TypeError(
        `worker.lease: pg-boss (the PostgreSQL store's engine) keeps leases in whole seconds, at least 10: give ${MIN_LEASE} or more`,
      );
    }
    const heartbeatSeconds = Math.ceil(lease / 1000);
    // How often pg-boss looks for jobs whose heartbeat stopped: a dead instance's work is taken
    // up within lease + this + pollInterval (1 s at a 10 s lease, a tenth of longer ones).
    const superviseSeconds = Math.max(1, Math.min(60, Math.floor(lease / 10_000)));
    const sendOptions = (actionId: string, txDb?: BossDatabase) => ({
      singletonKey: encodeKey(actionId),
      heartbeatSeconds,
      ...(txDb === undefined ? {} : { db: txDb }),
    });

    let booting: Promise<Boss> | undefined;
    /** The job of each action leased here (pg-boss does not record who claimed a job). */
    const held = new Map<string, string>();

    const boot = async (): Promise<Boss> => {
      if (closed) throw new Error('pg-boss: the store is closed');
      const { PgBoss } = await loadPgBoss();
      const boss = new PgBoss({
        db,
        schema,
        migrate,
        // The provider never schedules cron jobs, and writes no DDL it may not (reindexing is DDL).
        schedule: false,
        reindex: migrate,
        supervise: true,
        superviseIntervalSeconds: superviseSeconds,
        monitorIntervalSeconds: superviseSeconds,
        // Finished jobs are deleted an hour after they end (queueOptions): look every 10 minutes.
        maintenanceIntervalSeconds: 600,
        instanceName: owner,
        openTelemetry: { enabled: false },
      });
      boss.on('error', (error) =>
        logger.warn('pg-boss reported an error', { engine: 'pg-boss', error: logSafe(error) }),
      );
      boss.on('warning', (warning) =>
        logger.warn('pg-boss reported a warning', { engine: 'pg-boss', warning: logSafe(warning) }),
      );
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            await boss.start();
            break;
          } catch (cause) {
            if (migrate && attempt < INSTALL_TRIES && installRace(cause)) {
              await sleep(50 * 2 ** attempt * (0.5 + Math.random()));
              continue; // a start again on the same instance is pg-boss's own way to retry
            }
            if (migrate) throw cause;
            throw new Error(
              `pg-boss: schema "${schema}" is missing or older than this pg-boss, and the store was opened with migrate: false: run the SQL of pgBossSchemaSql() (or npx pg-boss migrate)`,
              { cause },
            );
          }
        }
        // Not DDL: a row in pg-boss's queue table (the queue shares pg-boss's job table).
        if ((await boss.getQueue(queue)) === null) await boss.createQueue(queue, queueOptions(heartbeatSeconds));
      } catch (error) {
        await boss.stop({ graceful: false, close: false }).catch(() => {});
        throw error;
      }
      return boss;
    };
    /** The started pg-boss instance; a failed start is tried again by the next call. */
    const started = (): Promise<Boss> =>
      (booting ??= boot().catch((error: unknown) => {
        booting = undefined;
        throw error;
      }));
    stops.add(async () => {
      await claims.stop();
      const boss = await booting?.catch(() => undefined);
      await boss?.stop({ graceful: false, close: false });
    });

    const leased = (boss: Boss, job: BossJob, actionId: string, uncounted: number): LeasedJob => {
      const attempt = { id: job.id, retryCount: job.retryCount };
      /** Back to the queue (pg-boss's fail re-queues it at once), then `change` it, in one transaction. */
      const requeue = (reason: string, change: (txDb: BossDatabase) => Promise<unknown> | undefined) =>
        inTransaction(async (_tx, txDb) => {
          const failed = await boss.fail(queue, attempt, { reason }, { db: txDb });
          if (failed.affected === 1) await change(txDb);
        });
      return {
        actionId,
        attempt: job.retryCount + 1 - uncounted,
        heartbeat: async () => (await boss.touch(queue, attempt)).affected === 1,
        complete: () =>
          // One transaction: a failure between completing and queueing again cannot lose the work.
          inTransaction(async (tx, txDb) => {
            if ((await boss.complete(queue, attempt, null, { db: txDb })).affected !== 1) return; // another attempt has it
            // Resumed while this attempt ended, the action is ACTIVE again and its new job was refused
            // (this one still held the key): queue it now. Read after completing, as a resume reads
            // the jobs after storing (schedule): of the two, the later sees the other's write.
            const [action] = await tx.unsafe(statusOf, [encodeKey(actionId)], { prepare: true });
            if (action?.['status'] === 'ACTIVE') {
              await boss.send(queue, jobData(actionId, 0), sendOptions(actionId, txDb));
            }
          }),
        retry: (delay) =>
          requeue('retry', (txDb) =>
            delay > 0 ? boss.update(queue, undefined, { id: job.id, startAfter: delay / 1000, db: txDb }) : undefined,
          ),
        release: () =>
          requeue('release', (txDb) => boss.update(queue, jobData(actionId, uncounted + 1), { id: job.id, db: txDb })),
      };
    };

    const claims = poller({
      name: 'pg-boss',
      concurrency,
      pollInterval,
      logger,
      async claim(free) {
        const boss = await started();
        const claimed: Claimed[] = [];
        for (const job of await boss.fetch(queue, { batchSize: free })) {
          const data = readData(job);
          if (data === undefined) {
            logger.warn('a job without an action was in the queue; it is dropped', { engine: 'pg-boss', job: job.id });
            await boss.complete(queue, job, null, {}).catch(() => {});
            continue;
          }
          held.set(data.actionId, job.id);
          claimed.push({
            job: leased(boss, job, data.actionId, data.uncounted),
            ended: () => {
              if (held.get(data.actionId) === job.id) held.delete(data.actionId);
            },
          });
        }
        return claimed;
      },
    });

    const info = (actionId: string, job: BossJobInfo): WorkInfo => {
      const uncounted = readData(job)?.uncounted ?? 0;
      const attempts = job.startedOn === null ? 0 : job.retryCount + 1 - uncounted;
      if (job.state !== 'active') {
        return { state: 'queued', attempts, runAt: time(job.startAfter), leaseHolder: null, leaseExpires: null };
      }
      const beat = time(job.heartbeatOn);
      return {
        state: 'running',
        attempts,
        runAt: null,
        // Known only for work leased here: pg-boss keeps no owner on a job.
        leaseHolder: held.get(actionId) === job.id ? owner : null,
        leaseExpires: beat === null ? null : beat + (job.heartbeatSeconds ?? heartbeatSeconds) * 1000,
      };
    };

    return {
      name: 'pg-boss',
      async schedule(record: ActionRecord) {
        try {
          const boss = await started();
          const u = update(record);
          const id = record.action_id;
          const sent = await inTransaction(async (tx, txDb) => {
            // Both at once, pipelined on the transaction's connection; a version conflict rolls
            // the job back with it.
            const [updated, job] = await Promise.allSettled([
              tx.unsafe(text(u.sql), u.params as unknown[], { prepare: true }),
              boss.send(queue, jobData(id, 0), sendOptions(id, txDb)),
            ]);
            // After a failure the other fails too ("current transaction is aborted"): the first is the cause.
            if (updated.status === 'rejected') throw updated.reason;
            if (job.status === 'rejected') throw job.reason;
            if (updated.value.count !== 1) throw CONFLICT;
            return job.value;
          }).catch((error: unknown) => {
            if (error === CONFLICT) return CONFLICT;
            throw error;
          });
          if (sent === CONFLICT) return undefined;
          // Refused (exclusive policy): the action has a job, an attempt of its last run that may
          // be ending now and have read the action before this update (see complete). If none is
          // left, the work is queued here.
          if (sent === null && !(await boss.findJobs(queue, { key: encodeKey(id) })).some(live)) {
            await boss.send(queue, jobData(id, 0), sendOptions(id));
          }
          claims.poll();
          return record;
        } catch (error) {
          throw isUnavailable(error, postgresUnavailable) ? storeUnavailable(error, retryAfter) : error;
        }
      },
      async start(handle) {
        await started();
        claims.start(handle);
      },
      stop: () => claims.stop(),
      async lag() {
        // Until pg-boss has started here its schema may not exist yet, and nothing was queued by it.
        if ((await booting?.catch(() => undefined)) === undefined) return 0;
        const [row] = await bounded(() => sql.unsafe(oldestDue, [queue], { prepare: true }));
        const lag = Number(row?.['lag'] ?? 0);
        return Number.isFinite(lag) ? Math.max(0, Math.round(lag)) : 0;
      },
      async inspect(actionIds) {
        const found = new Map<string, WorkInfo>();
        if (actionIds.length === 0) return found;
        const boss = await started();
        for (let i = 0; i < actionIds.length; i += INSPECT_AT_ONCE) {
          await Promise.all(
            actionIds.slice(i, i + INSPECT_AT_ONCE).map(async (id) => {
              const jobs = await boss.findJobs(queue, { key: encodeKey(id) });
              const current = jobs.findLast(live);
              if (current !== undefined) found.set(id, info(id, current));
            }),
          );
        }
        return found;
      },
    };
  };

  return Object.assign(factory, {
    async close() {
      closed = true;
      await Promise.all([...stops].map((stop) => stop()));
      stops.clear();
    },
  });
}
