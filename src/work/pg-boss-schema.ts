/**
 * @module work/pg-boss-schema: what the PostgreSQL engine needs of pg-boss (an optional peer,
 * imported only when background work runs on PostgreSQL), the one queue a provider's work lives
 * in, named after its table prefix, and the SQL that installs both for a store opened with
 * `migrate: false`.
 */

/** A job as `fetch()` hands it out (types.d.ts `Job`, the part used). */
export interface BossJob {
  id: string;
  data: unknown;
  /** Claims of this job before this one: every claim after the first adds one (a crash's too). */
  retryCount: number;
}

/** A job as `findJobs()` reads it (types.d.ts `JobWithMetadata`, the part used). */
export interface BossJobInfo extends BossJob {
  state: string;
  startAfter: Date | string;
  startedOn: Date | string | null;
  heartbeatOn: Date | string | null;
  heartbeatSeconds: number | null;
}

/** The claim a settle or a touch is fenced to: it does nothing once another attempt holds the job. */
export interface BossAttempt {
  id: string;
  retryCount: number;
}

export interface BossCommand {
  affected?: number;
}

/** A database pg-boss runs a call on (the pool, or a transaction). */
export interface BossConnection {
  db?: { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
}

/** The part of a `PgBoss` instance the engine calls (pg-boss 12). */
export interface Boss {
  start(): Promise<unknown>;
  stop(options: { graceful: boolean; close: boolean; timeout?: number }): Promise<void>;
  on(event: 'error' | 'warning', listener: (payload: unknown) => void): unknown;
  getQueue(name: string): Promise<unknown>;
  createQueue(name: string, options: Record<string, unknown>): Promise<void>;
  send(name: string, data: object, options: Record<string, unknown> & BossConnection): Promise<string | null>;
  fetch(name: string, options: { batchSize: number }): Promise<BossJob[]>;
  touch(name: string, attempt: BossAttempt): Promise<BossCommand>;
  complete(name: string, attempt: BossAttempt, data: null, options: BossConnection): Promise<BossCommand>;
  fail(name: string, attempt: BossAttempt, data: object, options: BossConnection): Promise<BossCommand>;
  update(name: string, data: object | undefined, options: Record<string, unknown> & BossConnection): Promise<unknown>;
  findJobs(name: string, options: { key: string }): Promise<BossJobInfo[]>;
}

export interface PgBossModule {
  PgBoss: new (options: Record<string, unknown>) => Boss;
  getConstructionPlans(schema?: string): string;
}

/** A computed specifier, so bundlers leave the optional peer alone. */
const moduleName = (name: string): string => name;

export async function loadPgBoss(): Promise<PgBossModule> {
  try {
    return (await import(moduleName('pg-boss'))) as PgBossModule;
  } catch (cause) {
    throw new Error('background work on PostgreSQL runs on pg-boss: install it (npm install pg-boss)', { cause });
  }
}

/** pg-boss allows no more (its MAX_EXPIRATION_HOURS): one attempt runs at most a day. */
export const EXPIRE_SECONDS = 86_400;

/** The work of the actions in tables `prefix*`: two providers on one database never share a queue. */
export const queueName = (prefix: string): string => `${prefix}work`;

/**
 * The queue's settings. `exclusive`: one job per key (the action) queued or running. The runner
 * counts attempts and fails the action itself (RetriesExhausted), so pg-boss never gives up on a
 * job (a retry limit it never reaches) and retries at once (the runner sets its own delay).
 * Queued work waits up to a year for an instance; a finished job is kept an hour (the action
 * holds the outcome). The lease (`heartbeatSeconds`) is also set on each job as it is queued.
 */
export const queueOptions = (heartbeatSeconds: number): Record<string, unknown> => ({
  policy: 'exclusive',
  retryLimit: 1_000_000,
  retryDelay: 0,
  expireInSeconds: EXPIRE_SECONDS,
  retentionSeconds: 365 * 86_400,
  deleteAfterSeconds: 3_600,
  heartbeatSeconds,
});

/** The lease of the default `worker.lease` (30 s), for the queue made by hand. */
const DEFAULT_HEARTBEAT_SECONDS = 30;

/** A table prefix as the SQL store takes it (sql.ts). */
export function checkPrefix(value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]*$/i.test(value)) {
    throw new TypeError('tablePrefix: letters, digits and underscores only');
  }
  return value;
}

/** pg-boss's schema: written into its SQL unquoted, so lower case (PostgreSQL folds the rest). */
export function checkSchema(value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(value) || value.length > 50) {
    throw new TypeError('schema: lower-case letters, digits and underscores, at most 50, not starting with a digit');
  }
  return value;
}

/**
 * The SQL that installs pg-boss's schema and creates the provider's queue in it, for a store
 * opened with `migrate: false` (run it with `schemaSql('postgres')`, which makes the actions'
 * tables). Two scripts, each its own transaction; a later pg-boss version's upgrade is pg-boss's
 * own: `npx pg-boss plans` prints it, `npx pg-boss migrate` runs it.
 *
 * @example
 * ```ts
 * for (const sql of await pgBossSchemaSql({ tablePrefix: 'echo_' })) console.log(sql)
 * ```
 */
export async function pgBossSchemaSql(options: { tablePrefix?: string; schema?: string } = {}): Promise<string[]> {
  const prefix = checkPrefix(options.tablePrefix ?? 'gap_');
  const schema = checkSchema(options.schema ?? 'pgboss');
  const { getConstructionPlans } = await loadPgBoss();
  const queue = JSON.stringify(queueOptions(DEFAULT_HEARTBEAT_SECONDS));
  return [
    getConstructionPlans(schema),
    // pg-boss's own createQueue() runs this function (plans.createQueue), under its lock.
    `SELECT ${schema}.create_queue('${queueName(prefix)}', '${queue}'::jsonb);`,
  ];
}
