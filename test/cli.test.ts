/**
 * @module test/cli: the `globus-action-provider` CLI as a child process: `token` mints what a
 * running example provider (Node, Bun, Deno) accepts and prints nothing else; `--help`; usage
 * errors exit 2 with a message on stderr, other failures 1; and the compiled bin does the same.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionClient } from '../src/testing/index.ts';
import { BIN, ROOT, type Spawned, spawnProcess } from './support/processes.ts';

const dirs: string[] = [];
const children: Spawned[] = [];
afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-cli-'));
  dirs.push(dir);
  return dir;
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to its end; its exit code and output, whatever the code. */
function exec(command: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI from its TypeScript source, as `npm run token` runs it. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { DATA_DIR: '', ...env });

/** An example provider in dev mode with its key in `dataDir`; its URL. */
async function startDevExample(command: string, args: string[], dataDir: string): Promise<string> {
  const example = await spawnProcess(command, args, {
    env: { PORT: '0', DATA_DIR: dataDir, STORE: 'memory' },
    ready: /listening on (http:\/\/\S+?)\/?\s/,
    timeout: 30_000,
  });
  children.push(example);
  return example.match?.[1] ?? '';
}

const payload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
const devIdentity = (dir: string): string => JSON.parse(readFileSync(join(dir, 'dev-key.json'), 'utf8')).identity;

describe('globus-action-provider token, against a running example (Node)', () => {
  let dataDir: string;
  let url: string;
  beforeAll(async () => {
    dataDir = freshDir();
    url = await startDevExample(process.execPath, ['--import', 'tsx', 'examples/node.ts'], dataDir);
  }, 60_000);

  it('prints only a token, which the provider accepts as its dev identity', async () => {
    const { code, stdout, stderr } = await cli(['token', '--dir', dataDir]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const ran = await actionClient(url, { token: stdout.trim() }).run({ body: { input_string: 'from the CLI' } });
    expect(ran.status).toBe(202);
    expect(ran.body.creator_id).toBe(`urn:globus:auth:identity:${devIdentity(dataDir)}`);
  });

  it('finds the directory through DATA_DIR, and mints fresh tokens each time asked', async () => {
    const first = await cli(['token'], { DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    expect((await actionClient(url, { token: first.stdout.trim() }).enumerate()).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // iat is in seconds
    const second = await cli(['token'], { DATA_DIR: dataDir });
    expect(second.stdout).not.toBe(first.stdout);
  });

  it('mints for another identity and groups, for as long as told', async () => {
    const alice = crypto.randomUUID();
    const group = crypto.randomUUID();
    const { code, stdout } = await cli([
      'token',
      '--dir',
      dataDir,
      '--identity',
      alice,
      '--group',
      group,
      '--group',
      'lab',
      '--expires-in',
      '90s',
    ]);
    expect(code).toBe(0);
    const claims = payload(stdout.trim());
    expect(claims).toMatchObject({ sub: alice, groups: [group, 'lab'], iss: 'urn:globus-action-provider:dev' });
    expect(claims.exp - claims.iat).toBe(90);
    const ran = await actionClient(url, { token: stdout.trim() }).run({ body: { input_string: 'alice' } });
    expect(ran.body.creator_id).toBe(`urn:globus:auth:identity:${alice}`);
  });

  it('mints a multi-factor login with a username (--mfa, --username), and refuses a username without a domain', async () => {
    const { code, stdout } = await cli(['token', '--dir', dataDir, '--mfa', '--username', 'dev@uchicago.edu']);
    expect(code).toBe(0);
    expect(payload(stdout.trim())).toMatchObject({ amr: ['pwd', 'mfa'], preferred_username: 'dev@uchicago.edu' });
    const bad = await cli(['token', '--dir', dataDir, '--username', 'dev']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--username must be a username/);
  });

  it('mints for the scope asked for, which the provider refuses when it is not its own', async () => {
    const other = 'https://auth.globus.org/scopes/11111111-1111-4111-8111-111111111111/other';
    const { code, stdout } = await cli(['token', '--dir', dataDir, '--scope', other]);
    expect(code).toBe(0);
    expect(payload(stdout.trim()).scope).toBe(other);
    expect((await actionClient(url, { token: stdout.trim() }).enumerate()).status).toBe(401);
  });
});

describe('globus-action-provider token, for providers on Bun and Deno', () => {
  const hosts: [string, string, string[]][] = [
    ['Bun', BIN('bun'), ['examples/bun.ts']],
    ['Deno', BIN('deno'), ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-write', 'examples/deno.ts']],
  ];
  it.each(hosts)(
    '%s: the key the provider made there mints tokens it accepts',
    async (_name, command, args) => {
      const dataDir = freshDir();
      const url = await startDevExample(command, args, dataDir);
      expect(statSync(join(dataDir, 'dev-key.json')).mode & 0o777).toBe(0o600);
      const { code, stdout } = await cli(['token', '--dir', dataDir]);
      expect(code).toBe(0);
      expect((await actionClient(url, { token: stdout.trim() }).run({ body: { input_string: 'hi' } })).status).toBe(
        202,
      );
    },
    60_000,
  );
});

describe('globus-action-provider: help, usage errors and failures', () => {
  it.each([['--help'], ['-h'], ['help']])('%s: the commands, on stdout, exit 0', async (flag) => {
    const { code, stdout, stderr } = await cli([flag]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: globus-action-provider <command>/);
    expect(stdout).toMatch(/^ {2}token {2}/m);
  });

  it.each([
    ['token', '--help'],
    ['token', '-h'],
    ['help', 'token'],
  ])('%s %s: the options of token', async (...args) => {
    const { code, stdout } = await cli(args);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: globus-action-provider token \[options\]/);
    for (const option of ['--dir', '--scope', '--identity', '--group', '--expires-in'])
      expect(stdout).toContain(option);
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['no command', [], /Usage: globus-action-provider <command>/],
    ['an unknown command', ['mint'], /unknown command 'mint'/],
    ['an unknown option', ['token', '--bogus'], /Unknown option '--bogus'[\s\S]*token --help/],
    ['an option without its value', ['token', '--dir'], /--dir/],
    ['a stray argument', ['token', 'extra'], /extra/],
    ['a bad --expires-in', ['token', '--expires-in', '1y'], /--expires-in must be/],
    ['an --expires-in over 30 days', ['token', '--expires-in', '31d'], /--expires-in must be/],
    ['a zero --expires-in', ['token', '--expires-in', '0'], /--expires-in must be/],
    ['a negative --expires-in', ['token', '--expires-in=-5'], /--expires-in must be/],
    [
      'an --expires-in of more digits than any lifetime',
      ['token', '--expires-in', '9'.repeat(400)],
      /--expires-in must be/,
    ],
    ['an --expires-in in exponent form', ['token', '--expires-in', '1e3'], /--expires-in must be/],
    [
      'a UUID with a newline after it as --identity',
      ['token', '--identity', `${crypto.randomUUID()}\n`],
      /--identity must be/,
    ],
    [
      'a URN of another kind as --identity',
      ['token', '--identity', `urn:globus:groups:id:${crypto.randomUUID()}`],
      /--identity must be/,
    ],
    ['a bad --identity', ['token', '--identity', 'alice@example.org'], /--identity must be a Globus identity/],
    ['a bad --group', ['token', '--group', 'urn:globus:auth:identity:x'], /--group must be/],
    ['an empty --scope', ['token', '--scope', ' '], /--scope must be/],
  ];
  it.each(usageErrors)('%s: exit 2, the message on stderr, nothing on stdout', async (_name, args, message) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  it('with no scope recorded and no --scope: exit 2, saying to pass --scope', async () => {
    const dir = freshDir();
    const made = await cli(['token', '--dir', dir, '--scope', 'x']); // no key yet: refused, nothing made
    expect(made.code).toBe(1);
    const { devAuth } = await import('../src/dev/index.ts');
    await devAuth({ dir }); // a key, but no scope recorded
    const { code, stderr } = await cli(['token', '--dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no scope is recorded in .*pass --scope/);
  });

  it('a directory without a key: exit 1, and no key is made there', async () => {
    const dir = join(freshDir(), 'not-yet');
    const { code, stdout, stderr } = await cli(['token', '--dir', dir]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/there is no dev key in/);
    expect(existsSync(dir)).toBe(false);
  });

  it('a corrupt key file: exit 1, naming the file, which is left as it was', async () => {
    const dir = freshDir();
    const file = join(dir, 'dev-key.json');
    writeFileSync(file, '{"privateJwk": ', { mode: 0o600 });
    const { code, stdout, stderr } = await cli(['token', '--dir', dir, '--scope', 'x']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file} is not a usable dev key`);
    expect(readFileSync(file, 'utf8')).toBe('{"privateJwk": ');
  });

  it('a key file other users can read, or a link in its place: exit 1, no token, saying why', async () => {
    const { devAuth } = await import('../src/dev/index.ts');
    const dir = freshDir();
    await devAuth({ dir, scope: 'x' });
    const file = join(dir, 'dev-key.json');
    chmodSync(file, 0o644);
    const shared = await cli(['token', '--dir', dir]);
    expect(shared).toMatchObject({ code: 1, stdout: '' });
    expect(shared.stderr).toContain(`chmod 600 ${file}`);
    const linked = freshDir();
    symlinkSync(file, join(linked, 'dev-key.json'));
    const link = await cli(['token', '--dir', linked, '--scope', 'x']);
    expect(link).toMatchObject({ code: 1, stdout: '' });
    expect(link.stderr).toMatch(/is a symbolic link/);
  });
});

describe('the compiled bin (tsc -p tsconfig.build.json)', () => {
  it('starts with its shebang and mints a token from the same key', async () => {
    // Inside the repository (.tmp/ is ignored by git), so the build finds node_modules as an install would.
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const out = mkdtempSync(join(ROOT, '.tmp', 'cli-build-'));
    dirs.push(out);
    const built = await exec(BIN('tsc'), ['-p', 'tsconfig.build.json', '--outDir', out]);
    expect(built.code, built.stdout).toBe(0);
    const main = join(out, 'src/cli/main.js');
    expect(readFileSync(main, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin['globus-action-provider']).toBe('./dist/src/cli/main.js');
    const dataDir = freshDir();
    const { devAuth } = await import('../src/dev/index.ts');
    const dev = await devAuth({ dir: dataDir, scope: 'https://auth.globus.org/scopes/x/y' });
    const { code, stdout } = await exec(process.execPath, [main, 'token', '--dir', dataDir]);
    expect(code).toBe(0);
    expect(payload(stdout.trim())).toMatchObject({ sub: dev.identity, scope: 'https://auth.globus.org/scopes/x/y' });
    const bad = await exec(process.execPath, [main, 'token', '--nope']);
    expect(bad.code).toBe(2);
  }, 120_000);
});
