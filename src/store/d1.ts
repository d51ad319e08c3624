/**
 * @module store/d1: actions in Cloudflare D1 (SQLite at the edge), for providers on Workers.
 * Same schema and queries as the embedded SQLite store; background work runs in a Durable Object
 * per action (work/durable-object.ts), never on a timer in the Worker.
 */
import { type DurableObjectNamespaceLike, durableObjectEngine } from '../work/durable-object.ts';
import type { EngineFactory } from '../work/types.ts';
import { d1Unavailable } from './failures.ts';
import { opened, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';

export type { DurableObjectIdLike, DurableObjectNamespaceLike, DurableObjectStubLike } from '../work/durable-object.ts';
export { schemaSql } from './sql.ts';

import type { ActionStore } from './types.ts';

export interface D1StoreOptions extends SqlStoreOptions {
  /**
   * The Durable Object namespace binding whose objects run background work, one per action
   * (`env.ACTION_WORK`; its class is `actionWorkObject(...)` from
   * `globus-action-provider/cloudflare-workers`). Required for a provider with a `work` callback.
   */
  work?: DurableObjectNamespaceLike;
}

/** The part of a D1 binding the store uses. */
export interface D1Like {
  prepare(sql: string): D1StatementLike;
  batch(statements: D1StatementLike[]): Promise<{ results?: unknown[]; meta: { changes?: number } }[]>;
}
export interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike;
  all(): Promise<{ results?: unknown[]; meta: { changes?: number } }>;
}

const toResult = (r: { results?: unknown[]; meta: { changes?: number } }): SqlResult => ({
  changes: r.meta?.changes ?? 0,
  rows: (r.results ?? []) as Record<string, unknown>[],
});

export function d1Driver(db: D1Like): SqlDriver {
  const bound = ({ sql, params }: SqlStatement) => db.prepare(sql).bind(...params);
  return {
    dialect: 'sqlite',
    unavailable: d1Unavailable,
    async execute(s) {
      return toResult(await bound(s).all());
    },
    async batch(statements) {
      // D1 runs a batch as one transaction.
      return (await db.batch(statements.map(bound))).map(toResult);
    },
  };
}

/** What a provider with a `work` callback gets from a D1 store opened without `work`: a TypeError at creation. */
const noWorkObjects: EngineFactory = () => {
  throw new TypeError(
    'work: on Workers background work runs in a Durable Object per action: open the store with ' +
      'd1Store(env.DB, { work: env.ACTION_WORK }) and export actionWorkObject(...) (globus-action-provider/cloudflare-workers) as its class',
  );
};

/**
 * @example
 * ```ts
 * const build = async (env: Env) => myProvider({ auth, store: await d1Store(env.DB, { work: env.ACTION_WORK }) })
 * export default worker(build)
 * export class ActionWork extends actionWorkObject(build) {}
 * ```
 */
export async function d1Store(db: D1Like, options: D1StoreOptions = {}): Promise<ActionStore> {
  if (typeof db?.prepare !== 'function' || typeof db.batch !== 'function')
    throw new TypeError('d1Store: expected a D1 database binding');
  const { work, ...sql } = options;
  if (work !== undefined && (typeof work?.idFromName !== 'function' || typeof work.get !== 'function'))
    throw new TypeError('work: expected a Durable Object namespace binding (e.g. env.ACTION_WORK)');
  const engine =
    work === undefined
      ? () => noWorkObjects
      : (tables: Parameters<typeof durableObjectEngine>[0]) => durableObjectEngine(tables, work);
  return opened(sqlStore(d1Driver(db), sql, engine), sql);
}
