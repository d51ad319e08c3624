/**
 * @module test/support/processes: the one way the tests start a process (a runtime binary from
 * npm, an example, a fixture), wait for it to be ready, and end it; and the provider processes
 * built on it, each listening on a real port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from './hosts.ts';
import { exampleEnv } from './identities.ts';

/** The repository root (with a trailing slash): every process runs there. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A binary installed from npm (bun, deno). */
export const BIN = (name: string) => `${ROOT}node_modules/.bin/${name}`;

export interface SpawnOptions {
  /** Over the test process's own environment (or alone, with `inheritEnv: false`). */
  env?: Record<string, string>;
  /** Default true; false gives the process `env` only, as a container would. */
  inheritEnv?: boolean;
  /** Where it runs. Default the repository root. */
  cwd?: string;
  /** Run as this user and group (the test process must be root). */
  uid?: number;
  gid?: number;
  /** Resolve once the output (stdout and stderr so far) matches; at once when not given. */
  ready?: RegExp;
  /** How long `ready` may take. Default 60 s. */
  timeout?: number;
}

export interface Spawned {
  child: ChildProcess;
  /** The `ready` match (undefined without `ready`). */
  match: RegExpExecArray | undefined;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the process has exited (at once if it has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** End it gracefully: SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** End it at once (SIGKILL); resolves once it has exited. */
  kill(): Promise<void>;
}

/** Start `command` (in the repository root unless told) and wait for `ready`; a process that exits first rejects with its output. */
export async function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): Promise<Spawned> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...(options.inheritEnv === false ? {} : process.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const end = async (signal: NodeJS.Signals, graceMs?: number) => {
    if (gone()) return;
    child.kill(signal);
    const timer = graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const match = await new Promise<RegExpExecArray | undefined>((resolve, reject) => {
    const { ready } = options;
    const timer =
      ready &&
      setTimeout(() => reject(new Error(`${command} was not ready in time:\n${output}`)), options.timeout ?? 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready?.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
    if (!ready) resolve(undefined);
  });
  return {
    child,
    match,
    output: () => output,
    exited,
    stop: () => end('SIGTERM', 5_000),
    kill: () => end('SIGKILL'),
  };
}

export type ProviderProcess = Host & Spawned & { startedIn: number };

/**
 * Spawn a provider that trusts the test key (`exampleEnv()`) and wait for its
 * "listening on <url>/" line. Unless `env` names a DATA_DIR, it keeps its actions in a
 * directory of its own, removed when it exits.
 */
export async function spawnHost(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ProviderProcess> {
  const started = performance.now();
  const dataDir = env['DATA_DIR'] === undefined ? mkdtempSync(join(tmpdir(), 'gap-host-')) : undefined;
  const spawned = await spawnProcess(command, args, {
    env: { ...(await exampleEnv()), ...(dataDir ? { DATA_DIR: dataDir } : {}), ...env },
    ready: /listening on (http:\/\/\S+?)\/?\s/,
  }).catch((error: unknown) => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  if (dataDir) void spawned.exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  return { ...spawned, url: spawned.match?.[1] ?? '', startedIn: performance.now() - started };
}

/** `test/fixtures/durable-provider.ts` in its own Node process (see there for the environment). */
export function spawnDurableProvider(env: Record<string, string>): Promise<ProviderProcess> {
  return spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/durable-provider.ts'], env);
}

/** `test/fixtures/work-provider.ts` (chunked background work) in its own Node process (see there for the environment). */
export function spawnWorkProvider(env: Record<string, string>): Promise<ProviderProcess> {
  return spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/work-provider.ts'], env);
}

/** `examples/node.ts` (the echo provider, its store chosen by DATA_DIR / DATABASE_URL). */
export function spawnNodeExample(env: Record<string, string> = {}): Promise<ProviderProcess> {
  return spawnHost(process.execPath, ['--import', 'tsx', 'examples/node.ts'], env);
}
