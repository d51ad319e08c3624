/**
 * @module store/sql-driver: what a database must offer the SQL store: statements with `?`
 * placeholders, run one at a time or atomically in a batch.
 */

import type { UnavailableTest } from './failures.ts';

export type SqlDialect = 'sqlite' | 'postgres';

/** A statement with `?` placeholders (drivers for `$n` dialects convert them). */
export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
}

export interface SqlResult {
  /** Rows changed (INSERT, UPDATE, DELETE). */
  changes: number;
  /** Rows returned (SELECT). */
  rows: Record<string, unknown>[];
}

/** What a database must offer the SQL store. */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Run one statement. */
  execute(statement: SqlStatement): Promise<SqlResult>;
  /**
   * Run statements in order, atomically (all or none), and resolve once they are durable.
   * `durable: false` lets a driver resolve once they are committed (visible to every
   * connection) but before they are synced: all a run's placeholder needs, since until its
   * answer is stored (durably) nothing that depends on it was acknowledged. Drivers may ignore it.
   */
  batch(statements: readonly SqlStatement[], options?: { durable?: boolean }): Promise<SqlResult[]>;
  /**
   * Whether an error this driver threw means the database is unavailable (unreachable, frozen,
   * full, read-only): the store answers those 503 with `Retry-After`, anything else stays a 500.
   */
  readonly unavailable?: UnavailableTest;
  close?(): Promise<void>;
}

export const stmt = (sql: string, ...params: unknown[]): SqlStatement => ({ sql, params });
