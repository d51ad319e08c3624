/**
 * @module test/support/d1-migrations: a D1 database migrated as `wrangler d1 migrations apply`
 * migrates it: the `*.sql` files of the migrations directory in order of name, each one not yet
 * recorded in `d1_migrations` run as one batch together with the row that records it (the table
 * made with wrangler's own DDL). test/cloudflare-deploy.test.ts checks the outcome against
 * wrangler's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { D1Like } from '../../src/store/d1.ts';
import { ROOT } from './processes.ts';

/** Where the Worker example's migrations live (its wrangler.toml's `migrations_dir`), from the repository root. */
export const D1_MIGRATIONS = 'examples/cloudflare/migrations';

export interface D1Migration {
  /** The file name, as wrangler records it. */
  name: string;
  statements: string[];
}

/**
 * The statements of a migration file: `--` comment lines dropped, split at each `;` that ends a
 * line. Wrangler's splitter understands any SQL; ours need only read the files that
 * schemaSql() made, which hold no `;` anywhere else.
 */
export function migrationStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** The migrations in `dir` (from the repository root), in the order wrangler applies them. */
export function readD1Migrations(dir = D1_MIGRATIONS): D1Migration[] {
  return readdirSync(join(ROOT, dir))
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, statements: migrationStatements(readFileSync(join(ROOT, dir, name), 'utf8')) }));
}

/** Apply to `db` the migrations of `dir` it lacks; resolves to the names applied. */
export async function applyD1Migrations(db: D1Like, dir = D1_MIGRATIONS): Promise<string[]> {
  await db.batch([
    db.prepare(`CREATE TABLE IF NOT EXISTS d1_migrations(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`),
  ]);
  const done = new Set(
    ((await db.prepare('SELECT name FROM d1_migrations').all()).results as { name: string }[]).map((r) => r.name),
  );
  const applied: string[] = [];
  for (const migration of readD1Migrations(dir)) {
    if (done.has(migration.name)) continue;
    await db.batch([
      ...migration.statements.map((sql) => db.prepare(sql)),
      db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(migration.name),
    ]);
    applied.push(migration.name);
  }
  return applied;
}
