/**
 * @module test/fuzz/targets: the five fuzz targets, each test/fuzz/server.ts in a child
 * process: memory, SQLite (a file in a temporary directory) and PostgreSQL (a fresh database)
 * behind `serve()`, and the memory store mounted in Express without and after `express.json()`.
 * A target can be restarted after a crash; its SQLite file or database outlives the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from '../support/postgres.ts';
import { type ProviderProcess, spawnHost } from '../support/processes.ts';

export const TARGETS = ['memory', 'sqlite', 'postgres', 'express', 'express-json'] as const;
export type TargetName = (typeof TARGETS)[number];

export const isTargetName = (name: string): name is TargetName => (TARGETS as readonly string[]).includes(name);

/** A running target process. */
export interface TargetProcess {
  /** Base URL without a trailing slash (`http://127.0.0.1:1234` or `.../ap`). */
  url: string;
  alive(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Warnings and errors the provider logged, `level message: cause`, with counts. */
  log: Map<string, number>;
  /** What the provider logged while answering request N (its `x-fuzz-id`): the cause of a 500. */
  causes: Map<number, string>;
  stop(): Promise<void>;
}

export interface Target {
  name: TargetName;
  /** Mounted in a host app: requests about the HTTP server itself are the host's, not ours. */
  hosted: boolean;
  start(): Promise<TargetProcess>;
  /** Remove its data (the SQLite directory, the database). */
  dispose(): Promise<void>;
}

export interface TargetOptions {
  /** A PostgreSQL server to make the `postgres` target's database on. */
  postgresUrl?: string;
}

export async function openTarget(name: TargetName, options: TargetOptions = {}): Promise<Target> {
  const env: Record<string, string> = { FUZZ_TARGET: name };
  let dispose = async () => {};
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gap-fuzz-'));
    env['DATA_DIR'] = dir;
    dispose = async () => rmSync(dir, { recursive: true, force: true });
  }
  if (name === 'postgres') {
    if (options.postgresUrl === undefined) throw new Error('the postgres target needs a PostgreSQL server URL');
    const database = await freshDatabase(options.postgresUrl);
    env['DATABASE_URL'] = database.url;
    dispose = () => database.drop();
  }
  return { name, hosted: name.startsWith('express'), start: () => startProcess(env), dispose };
}

async function startProcess(env: Record<string, string>): Promise<TargetProcess> {
  const spawned: ProviderProcess = await spawnHost(process.execPath, ['--import', 'tsx', 'test/fuzz/server.ts'], env);
  const log = new Map<string, number>();
  const causes = new Map<number, string>();
  let pending = '';
  spawned.child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const entry = logEntry(line);
      if (entry === undefined) continue;
      log.set(entry.key, (log.get(entry.key) ?? 0) + 1);
      if (entry.id !== undefined && !causes.has(entry.id)) causes.set(entry.id, entry.key);
    }
  });
  return {
    url: spawned.url.replace(/\/$/, ''),
    alive: () => spawned.child.exitCode === null && spawned.child.signalCode === null,
    exited: spawned.exited,
    log,
    causes,
    stop: () => spawned.stop(),
  };
}

/** A provider log line (server.ts writes JSON with `fuzzLog`) as a grouping key and its request; other stderr too. */
function logEntry(line: string): { key: string; id?: number } | undefined {
  if (line.trim() === '') return undefined;
  try {
    const entry = JSON.parse(line) as { fuzzLog?: string; message?: string; cause?: string; fuzzId?: string };
    if (entry.fuzzLog !== undefined) {
      const key = `${entry.fuzzLog} ${entry.message}${entry.cause ? `: ${entry.cause}` : ''}`;
      const id = entry.fuzzId === undefined || entry.fuzzId === '' ? undefined : Number(entry.fuzzId);
      return id === undefined ? { key } : { key, id };
    }
  } catch {
    // not one of ours: an uncaught error's stack, say
  }
  // Of anything else (a host's stack traces, say), the first line of each entry.
  return /^[\s{}]/.test(line) ? undefined : { key: `stderr ${line.slice(0, 200)}` };
}
