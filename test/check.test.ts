/**
 * @module test/check: `globus-action-provider check` as a child process, over real HTTP. Every
 * check passes against the example provider on Node, Bun, Deno, workerd, Express and a Hono
 * host, in dev mode (the second identity minted from the key), and against a provider written by
 * hand on Hono; each deliberately broken variant of that one fails exactly the checks about what
 * it breaks; tokens never reach the output; usage errors exit 2, failures 1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressMiddleware } from '../adapters/express.ts';
import { echoProvider } from '../examples/echo.ts';
import { CHECKS, type CheckReport, REQUEST_BOUND } from '../src/check/index.ts';
import { silentLogger as silent } from '../src/index.ts';
import { actionClient } from '../src/testing/index.ts';
import { type Fault, handWrittenProvider } from './fixtures/hand-written-provider.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv, mint, SCOPE, testAuth, USERS } from './support/identities.ts';
import { freePort } from './support/ports.ts';
import { BIN, ROOT, type Spawned, spawnHost, spawnNodeExample, spawnProcess } from './support/processes.ts';

const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-check-'));
  dirs.push(dir);
  return dir;
};

/** What does not apply to a provider that never asks for a consent or a login. */
const NO_GARE = ['gare.shape'];

/** The hand-written provider's two callers (their tokens, and identity ids). */
const alice = `alice-${crypto.randomUUID()}`;
const bob = `bob-${crypto.randomUUID()}`;
const users = { [alice]: crypto.randomUUID(), [bob]: crypto.randomUUID() };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `globus-action-provider check ...` from its TypeScript source, to its end; no dev key and no token in its environment unless given. */
function check(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const { GLOBUS_ACTION_PROVIDER_TOKEN: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args],
      { cwd: ROOT, env: { ...inherited, DATA_DIR: freshDir(), ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The report of a `--json` run, with the ids of its failures and of what did not apply. */
function parsed(result: Result) {
  const report = JSON.parse(result.stdout) as CheckReport;
  const ids = (outcome: string) =>
    report.checks
      .filter((c) => c.outcome === outcome)
      .map((c) => c.id)
      .sort();
  return { report, failed: ids('fail'), notApplicable: ids('not-applicable') };
}

/** What every complete run shows: each check once, in catalog order; the bound kept; every action released. */
function expectWhole(report: CheckReport): void {
  expect(report.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
  for (const c of report.checks) expect(c.basis).not.toBe('');
  expect(report.summary.requests).toBeLessThanOrEqual(REQUEST_BOUND);
  expect(report.summary.requestBound).toBe(REQUEST_BOUND);
}

describe('check passes against the example provider on every host', () => {
  const mounted = async (mount: (host: Hono, fetch: (request: Request) => Response | Promise<Response>) => void) => {
    const host = new Hono();
    mount(host, echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent }).fetch);
    return listenNode(getRequestListener(host.fetch), '/echo');
  };
  const HOSTS: [string, () => Promise<Host>][] = [
    ['Node (examples/node.ts)', () => spawnNodeExample()],
    ['Bun (examples/bun.ts)', () => spawnHost(BIN('bun'), ['examples/bun.ts'])],
    [
      'Deno (examples/deno.ts)',
      () =>
        spawnHost(BIN('deno'), [
          'run',
          '--allow-net',
          '--allow-env',
          '--allow-read',
          '--allow-write',
          'examples/deno.ts',
        ]),
    ],
    ['workerd (examples/worker.ts)', async () => startWorker('examples/worker.ts', await exampleEnv())],
    [
      'Express 5 after express.json()',
      async () => {
        const app = express();
        app.use(express.json());
        app.use('/echo', expressMiddleware(echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent })));
        return listenNode(app, '/echo');
      },
    ],
    ['Hono host with mount()', () => mounted((host, fetch) => host.mount('/echo', fetch))],
  ];

  describe.each(HOSTS)('%s', (name, start) => {
    let host: Host;
    beforeAll(async () => {
      host = await start();
      stops.push(() => host.stop());
    }, 90_000);

    it('every check passes (--json), every action it made is released, and one made before is untouched', async () => {
      const creator = await mint(USERS.creator);
      const stranger = await mint(USERS.stranger);
      const before = await actionClient(host.url, { token: creator }).run({ body: { input_string: 'mine' } });
      expect(before.status).toBe(202);
      // On Node the token comes from the environment; elsewhere from --token.
      const viaEnv = name.startsWith('Node');
      const result = await check(
        [host.url, ...(viaEnv ? [] : ['--token', creator]), '--other-token', stranger, '--json'],
        viaEnv ? { GLOBUS_ACTION_PROVIDER_TOKEN: creator } : {},
      );
      const { report, failed, notApplicable } = parsed(result);
      expect({ code: result.code, failed, notApplicable }).toEqual({ code: 0, failed: [], notApplicable: NO_GARE });
      expectWhole(report);
      expect(report.ok).toBe(true);
      expect(report.provider).toEqual({ title: 'Echo', scope: SCOPE });
      expect(report.actions.created.length).toBeGreaterThanOrEqual(2);
      expect(report.actions.released.sort()).toEqual(report.actions.created.sort());
      expect(report.actions.remaining).toEqual([]);
      expect(report.actions.created).not.toContain(before.body.action_id);
      const still = await actionClient(host.url, { token: creator }).status(before.body.action_id);
      expect(still.status).toBe(200);
      expect(still.body).toEqual(before.body);
      for (const token of [creator, stranger]) expect(result.stdout + result.stderr).not.toContain(token);
    }, 60_000);
  });
});

describe('check in dev mode and without a token (examples/node.ts)', () => {
  let dataDir: string;
  let url: string;
  let example: Spawned;
  beforeAll(async () => {
    dataDir = freshDir();
    example = await spawnProcess(process.execPath, ['--import', 'tsx', 'examples/node.ts'], {
      env: { PORT: '0', DATA_DIR: dataDir, STORE: 'memory' },
      ready: /listening on (http:\/\/\S+?)\/?\s/,
    });
    stops.push(() => example.stop());
    url = example.match?.[1] ?? '';
  }, 60_000);

  it('mints both identities from the key: every check passes, the isolation ones too', async () => {
    const result = await check([url, '--dev-dir', dataDir, '--json']);
    const { report, failed, notApplicable } = parsed(result);
    expect({ code: result.code, failed, notApplicable }).toEqual({ code: 0, failed: [], notApplicable: NO_GARE });
    expectWhole(report);
    expect(result.stderr).toContain(`using a dev-mode token from the key in ${dataDir}`);
  });

  it('without any token makes the checks that need none, and says why the others do not apply', async () => {
    const result = await check([url, '--json']);
    const { report, failed, notApplicable } = parsed(result);
    expect(result.code).toBe(0);
    expect(failed).toEqual([]);
    expect(notApplicable).toContain('run');
    expect(notApplicable).toContain('isolation.status');
    const passed = report.checks.filter((c) => c.outcome === 'pass').map((c) => c.id);
    expect(passed).toEqual(
      expect.arrayContaining([
        'introspection',
        'cors.run',
        'routing.unknown-path',
        'auth.run.missing',
        'auth.run.invalid',
      ]),
    );
    expect(report.checks.find((c) => c.id === 'run')?.reason).toMatch(/needs a token/);
    expect(report.checks.find((c) => c.id === 'isolation.status')?.reason).toMatch(/second identity/);
    expect(result.stderr).toMatch(/no token/);
  });
});

describe('check against a provider written by hand, and its broken variants', () => {
  const families = (prefix: string) =>
    ['status', 'log', 'cancel', 'resume', 'release'].flatMap((r) => [`${prefix}.${r}`, `${prefix}.actions.${r}`]);
  const start = async (faults: Fault[]) => {
    const host = await listenNode(getRequestListener(handWrittenProvider({ users, faults }).fetch));
    stops.push(() => host.stop());
    return host.url;
  };

  const CASES: [string, Fault[], string[]][] = [
    ['correct', [], []],
    ['HTML 404 pages', ['html-404'], [...families('unknown'), 'routing.unknown-path']],
    ["401 instead of 404 for another user's action", ['leaky-401'], families('isolation')],
    ['500 on a malformed principal URN', ['principal-500'], ['envelope.principal']],
    ['missing ActionStatus keys', ['missing-keys'], ['action-status.schema']],
    ['no idempotency', ['no-idempotency'], ['idempotency.conflict', 'idempotency.same']],
    ['release that keeps the action', ['release-keeps'], ['actions.release', 'release']],
    ['a consent asked for as a GARE (INACTIVE actions)', ['consent'], []],
    ['a GARE no client reads', ['consent', 'bad-gare'], ['gare.shape']],
  ];

  it.each(CASES)('%s: exactly the checks about it fail', async (_name, faults, expected) => {
    const result = await check([await start(faults), '--token', alice, '--other-token', bob, '--json']);
    const { report, failed, notApplicable } = parsed(result);
    expect({ code: result.code, failed, notApplicable }).toEqual({
      code: expected.length === 0 ? 0 : 1,
      failed: [...expected].sort(),
      notApplicable: faults.includes('consent') ? [] : NO_GARE,
    });
    expectWhole(report);
    for (const c of report.checks.filter((c) => c.outcome === 'fail')) {
      expect(c.reason).toMatch(/\S/);
      expect(c.exchanges?.length).toBeGreaterThan(0);
      expect(c.exchanges?.[0]?.answer?.status).toBeGreaterThan(0);
    }
    // What the provider kept after a 200 to its release is reported, not counted as released.
    expect(report.actions.remaining).toHaveLength(faults.includes('release-keeps') ? 2 : 0);
    for (const token of [alice, bob]) expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('a provider with only the legacy routes: the /actions checks do not apply, and say why; nothing fails', async () => {
    const result = await check([await start(['legacy-only']), '--token', alice, '--other-token', bob, '--json']);
    const { report, failed, notApplicable } = parsed(result);
    expect({ code: result.code, failed }).toEqual({ code: 0, failed: [] });
    expect(notApplicable).toEqual(
      [
        'actions.run',
        'actions.list',
        'gare.shape',
        'routing.method.actions',
        'isolation.list',
        ...['status', 'log', 'cancel', 'resume', 'release'].flatMap((r) => [
          `actions.${r}`,
          `unknown.actions.${r}`,
          `isolation.actions.${r}`,
        ]),
      ].sort(),
    );
    for (const c of report.checks.filter((c) => c.outcome === 'not-applicable' && c.id !== 'gare.shape'))
      expect(c.reason).toMatch(/serves no \/actions routes/);
    expect(report.actions.remaining).toEqual([]);
  });

  it('shows a failure in the readable report: why, what it rests on, the request and the answer, tokens by name', async () => {
    const { code, stdout, stderr } = await check([await start(['leaky-401']), '--token', alice, '--other-token', bob]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ {2}FAIL {2}isolation\.status +GET \/\{id\}\/status of another identity's action/m);
    expect(stdout).toMatch(/why: answered 401 \(.*\), but 404 \(.*\) for an unknown id/);
    expect(stdout).toMatch(/the Python toolkit's 401 tells the action exists/);
    expect(stdout).toMatch(/> GET http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/status\n +authorization: Bearer <other token>/);
    expect(stdout).toMatch(/< 401\n(?: +[\w-]+: .*\n)* +content-type: application\/json/);
    // The provider quoted the token in its error; the report shows its name instead.
    expect(stdout).toContain('Token <other token> may not see action');
    expect(stdout).toMatch(/^FAILED: 10 checks failed\.$/m);
    expect(stdout + stderr).not.toContain(bob);
    expect(stderr).toMatch(/^checking http:\/\/127\.0\.0\.1:\d+\/ \(at most \d+ requests\)$/m);
  });

  it('runs with --body (JSON or @file) instead of a body made from input_schema; one the provider refuses fails run', async () => {
    const url = await start([]);
    const file = join(freshDir(), 'body.json');
    writeFileSync(file, JSON.stringify({ name: 'from a file' }));
    const fromFile = await check([url, '--token', alice, '--other-token', bob, '--body', `@${file}`, '--json']);
    expect(parsed(fromFile).failed).toEqual([]);
    const refused = await check([url, '--token', alice, '--other-token', bob, '--body', '{"nom": 1}', '--json']);
    const { report, failed } = parsed(refused);
    expect(refused.code).toBe(1);
    expect(failed).toEqual(['actions.run', 'run']);
    expect(report.checks.find((c) => c.id === 'run')?.reason).toMatch(/answered 422/);
    expect(report.checks.find((c) => c.id === 'status')?.reason).toMatch(/no action to check/);
  });
});

describe('check on a terminal', () => {
  it('keeps one progress line on stderr, rewritten per check and cleared before the report', async () => {
    const host = await listenNode(getRequestListener(handWrittenProvider({ users }).fetch));
    stops.push(() => host.stop());
    // script(1) runs the command on a pseudo-terminal: stderr (and stdout) are a TTY there.
    const command = `${process.execPath} --import tsx src/cli/main.ts check ${host.url} --token ${alice} --other-token ${bob}`;
    const { stdout } = await new Promise<Result>((resolve) => {
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { cwd: ROOT, env: { ...process.env, DATA_DIR: freshDir() } },
        (error, out, err) => resolve({ code: error ? 1 : 0, stdout: out, stderr: err }),
      );
    });
    const ESC = String.fromCharCode(27);
    const lines = [...stdout.matchAll(new RegExp(`\r${ESC}\\[K\\[(\\d+)/(\\d+)\\] ([\\w.-]+)`, 'g'))];
    expect(lines.map((m) => Number(m[1]))).toEqual(CHECKS.map((_c, i) => i + 1));
    expect(new Set(lines.map((m) => Number(m[2])))).toEqual(new Set([CHECKS.length]));
    // Cleared, then the report.
    expect(stdout).toMatch(new RegExp(`\\[\\d+/\\d+\\] [\\w.-]+\r${ESC}\\[Kglobus-action-provider check http`));
    expect(stdout, stdout.slice(-3000)).toMatch(/OK: no check failed\./);
  });
});

describe('check: usage errors (exit 2), help, and a provider that does not answer (exit 1)', () => {
  const usage: [string, string[], RegExp][] = [
    ['no URL', [], /missing URL/],
    ['two URLs', ['http://127.0.0.1:1/', 'http://127.0.0.1:2/'], /unexpected argument 'http:\/\/127\.0\.0\.1:2\/'/],
    ['no http URL', ['ftp://example.org/'], /must be http or https/],
    ['a URL with a query', ['http://127.0.0.1:1/?x=1'], /without query/],
    ['a --body that is no JSON object', ['http://127.0.0.1:1/', '--body', '[1]'], /--body must be a JSON object/],
    ['a --body file that is not there', ['http://127.0.0.1:1/', '--body', '@/nonexistent/body.json'], /cannot read/],
    ['a zero --timeout', ['http://127.0.0.1:1/', '--timeout', '0'], /--timeout must be/],
    ['the same token twice', ['http://127.0.0.1:1/', '--token', 'abc', '--other-token', 'abc'], /another identity/],
    ['an unknown option', ['http://127.0.0.1:1/', '--bogus'], /Unknown option '--bogus'/],
  ];
  it.each(usage)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await check(args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(message);
    expect(stderr).toContain("Run 'globus-action-provider check --help'");
  });

  it('--help says what it checks, its bound and its exit codes', async () => {
    const { code, stdout } = await check(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: globus-action-provider check URL \[options\]/);
    expect(stdout).toContain(`at most ${REQUEST_BOUND} requests`);
    for (const option of ['--body', '--token', '--other-token', '--dev-dir', '--json', '--timeout', '--wait'])
      expect(stdout).toContain(option);
  });

  it('a provider that does not answer: introspection fails, nothing else is sent, exit 1', async () => {
    const result = await check([`http://127.0.0.1:${await freePort()}/`, '--token', 'abc', '--json']);
    const { report, failed } = parsed(result);
    expect(result.code).toBe(1);
    expect(failed).toEqual(['introspection']);
    expect(report.checks.find((c) => c.id === 'introspection')?.reason).toMatch(/^no answer: /);
    expect(report.checks.find((c) => c.id === 'run')?.reason).toBe('not run: GET / got no answer');
    expect(report.summary.requests).toBe(1);
  });
});
