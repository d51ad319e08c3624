/**
 * @module test/process-support: what the multi-instance, crash and expiry tests share:
 * provider processes, bounded concurrency and throwaway PostgreSQL databases.
 */

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import postgres from 'postgres';
import { type Host, spawnHost } from './conformance/hosts.ts';

export type ProviderProcess = Host & { child: ChildProcess };

/**
 * End a throwaway provider process at once (SIGKILL), unless it is gone already. Not
 * `Host.stop()`: it waits for an `exit` that never comes again once a process was killed by a
 * signal, and examples/node.ts on PostgreSQL does not exit on SIGTERM.
 */
export async function stopProcess(host: ProviderProcess): Promise<void> {
  const { child } = host;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** `test/fixtures/durable-provider.ts` in its own Node process (see there for the environment). */
export function spawnDurableProvider(env: Record<string, string>): Promise<ProviderProcess> {
  return spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/durable-provider.ts'], env);
}

/** `examples/node.ts` (the echo provider, its store chosen by DATA_DIR / DATABASE_URL). */
export function spawnNodeExample(env: Record<string, string>): Promise<ProviderProcess> {
  return spawnHost(process.execPath, ['--import', 'tsx', 'examples/node.ts'], env);
}

/** Run `task` on every item with at most `limit` in flight; results in item order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A short unique name for tables and databases. */
export const uniqueName = (prefix: string) => `${prefix}${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;

/** A new, empty database on the test PostgreSQL server; resolves to its URL and a drop function. */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('gap_t');
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns true or `timeout` ms pass; resolves to the last answer. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeout = 5_000, every = 20): Promise<boolean> {
  const deadline = performance.now() + timeout;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await sleep(every);
  }
}
