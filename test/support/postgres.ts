/**
 * @module test/support/postgres: a real PostgreSQL server for the tests, in a temporary
 * directory on a free port (initdb takes about a second; as root it runs as `postgres`), and
 * throwaway databases and names on it; and, for fault injection, stopping, restarting,
 * freezing and thawing that server.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './ports.ts';

export interface PostgresServer {
  url: string;
  /** Stop the server and remove its files. */
  stop(): void;
  /**
   * Stop the server, keeping its files: `fast` ends sessions cleanly, `immediate` is a crash
   * (WAL replay on start). Asynchronous, so a provider in this process keeps serving meanwhile.
   */
  halt(mode: 'fast' | 'immediate'): Promise<void>;
  /** Start it again after `halt`, on the same port and data. */
  restart(): Promise<void>;
  /** SIGSTOP the postmaster and every backend: connections stay open and nothing answers (a hung host). */
  freeze(): void;
  /** SIGCONT them all. */
  thaw(): void;
}

/** The postmaster's pid (first line of postmaster.pid) and its children's, from /proc. */
function serverPids(data: string): number[] {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // The parent pid is the 4th field, after the parenthesised command name.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** initdb / pg_ctl from PATH, or from Debian's /usr/lib/postgresql/<version>/bin. */
function binary(name: string): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const candidate = join(root, version, 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: install PostgreSQL (.ci/run does: apt-get install -y postgresql)`);
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gap-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const as = (file: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const run = (file: string, args: string[]) => {
    execFileSync(...as(file, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const runAsync = (file: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile(...as(file, args), (error) => (error ? reject(error) : resolve()));
    });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  run(binary('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB`;
  let running = false;
  let frozen = false;
  const startArgs = ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', options, 'start'];
  const stopArgs = (mode: string) => ['-D', data, '-m', mode, '-w', 'stop'];
  const halt = async (mode: 'fast' | 'immediate') => {
    await runAsync(binary('pg_ctl'), stopArgs(mode));
    running = false;
  };
  const restart = async () => {
    await runAsync(binary('pg_ctl'), startArgs);
    running = true;
  };
  const signal = (name: NodeJS.Signals) => {
    for (const pid of serverPids(data)) process.kill(pid, name);
    frozen = name === 'SIGSTOP';
  };
  run(binary('pg_ctl'), startArgs);
  running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        if (frozen) signal('SIGCONT');
        if (running) run(binary('pg_ctl'), stopArgs('fast'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    halt,
    restart,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
  };
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
