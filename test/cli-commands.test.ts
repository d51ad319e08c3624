/**
 * @module test/cli-commands: the provider commands of the CLI (introspect, run, status
 * [--watch], cancel, release, resume, log, list). As a child process against the echo example
 * with background work on Node, Bun and Deno (dev mode, the CLI on the same runtime) and on
 * workerd (examples/worker.ts, its work in a Durable Object; the token from the environment):
 * introspect, run, `--watch` following an action to its end in both route families, log, list,
 * release, `--json`. `status --watch` showing an action's progress as it changes. Then, with
 * `runCli` in process against providers on real ports: every command's `--help`, usage errors
 * (exit 2), refusals and failures (exit 1, the code and description on stderr, what to do about
 * a Globus Auth requirement), INACTIVE actions, and no token in any output.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../adapters/node.ts';
import { runCli } from '../src/cli/run.ts';
import { actionProviderClient } from '../src/client/index.ts';
import { devAuth } from '../src/dev/index.ts';
import { ActionError, memoryStore } from '../src/index.ts';
import { D1_MIGRATIONS } from './support/d1-migrations.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv, mint, SCOPE, USERS, urn } from './support/identities.ts';
import { BIN, ROOT, type Spawned, spawnHost, spawnProcess } from './support/processes.ts';
import { field, testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { listen } from './support/transports.ts';

const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((step) => step()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-cli-commands-'));
  dirs.push(dir);
  return dir;
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to its end, in the repository root; its exit code and output, whatever the code. */
function exec(command: string, args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

type Cli = (args: string[]) => Promise<Result>;

interface HostCase {
  name: string;
  /** The provider, and the CLI as it runs against it (its runtime, where its token comes from). */
  start(): Promise<{ url: string; cli: Cli }>;
}

/** The background echo fixture in dev mode, its key in a fresh DATA_DIR that the CLI mints from. */
function devHost(name: string, command: string, args: string[], cli: [string, string[]]): HostCase {
  return {
    name,
    start: async () => {
      const dataDir = freshDir();
      const provider: Spawned = await spawnProcess(command, args, {
        env: { PORT: '0', DATA_DIR: dataDir, STORE: 'memory' },
        ready: /listening on (http:\/\/\S+?)\/?\s/,
        timeout: 30_000,
      });
      cleanups.push(() => provider.stop());
      const [runtime, prefix] = cli;
      return {
        url: provider.match?.[1] ?? '',
        cli: (words) => exec(runtime, [...prefix, ...words], { DATA_DIR: dataDir }),
      };
    },
  };
}

const NODE_CLI: [string, string[]] = [process.execPath, ['--import', 'tsx', 'src/cli/main.ts']];
const FIXTURE = 'test/fixtures/background-echo.ts';

const HOSTS: HostCase[] = [
  devHost('Node', process.execPath, ['--import', 'tsx', FIXTURE], NODE_CLI),
  devHost('Bun', BIN('bun'), [FIXTURE], [BIN('bun'), ['src/cli/main.ts']]),
  devHost('Deno', BIN('deno'), ['run', '-A', FIXTURE], [BIN('deno'), ['run', '-A', 'src/cli/main.ts']]),
  {
    name: 'workerd (examples/worker.ts, D1, work in a Durable Object)',
    start: async () => {
      const worker = await startWorker('examples/worker.ts', await exampleEnv(), ['DB'], {
        d1Migrations: D1_MIGRATIONS,
        durableObjects: { ACTION_WORK: { className: 'ActionWork', useSQLite: true } },
      });
      cleanups.push(() => worker.stop());
      // No dev mode on Workers: a token of the test issuer, from the environment variable.
      const token = await mint(USERS.creator);
      const [runtime, prefix] = NODE_CLI;
      return {
        url: worker.url,
        cli: (words) =>
          exec(runtime, [...prefix, ...words], { GLOBUS_ACTION_PROVIDER_TOKEN: token, DATA_DIR: freshDir() }),
      };
    },
  },
];

/** The lines of `--watch` on stderr (`HH:MM:SSZ  STATUS  ...`). */
const watchLines = (stderr: string) => stderr.split('\n').filter((line) => /^\d\d:\d\d:\d\dZ {2}/.test(line));

describe.each(HOSTS)('the CLI against the background echo on $name', (host) => {
  let url: string;
  let cli: Cli;
  beforeAll(async () => {
    ({ url, cli } = await host.start());
  }, 90_000);

  it('introspect: a summary, and the document itself with --json', async () => {
    const [summary, document] = await Promise.all([cli(['introspect', url]), cli(['introspect', url, '--json'])]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/^title {2,}Echo$/m);
    expect(summary.stdout).toMatch(/^synchronous {2,}false$/m);
    expect(summary.stdout).toMatch(/^input_schema\n {2}\{/m);
    expect(document.code).toBe(0);
    expect(JSON.parse(document.stdout)).toMatchObject({ title: 'Echo', synchronous: false, types: ['ACTION'] });
  });

  it('run, status --watch to its end, log, list, release (legacy routes)', async () => {
    const ran = await cli(['run', url, '--body', '{"input_string": "hello"}', '--label', 'from the CLI', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const action = JSON.parse(ran.stdout);
    expect(action).toMatchObject({ status: 'ACTIVE', display_status: 'Queued', label: 'from the CLI' });
    const id: string = action.action_id;

    const watched = await cli(['status', url, id, '--watch']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/^status {2,}SUCCEEDED$/m);
    expect(watched.stdout).toMatch(/^details {2,}\{"you_said":"hello"\}$/m);
    expect(watchLines(watched.stderr).at(-1)).toMatch(/ {2}SUCCEEDED {2}\{"you_said":"hello"\}$/);

    const log = await cli(['log', url, id]);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/ {2}Echoed "hello"\n$/);

    const listed = await cli(['list', url, '--status', 'succeeded', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((a: { action_id: string }) => a.action_id)).toContain(id);
    const table = await cli(['list', url, '--status', 'SUCCEEDED']);
    expect(table.stdout).toMatch(/^ACTION_ID +STATUS +DISPLAY_STATUS +LABEL +START_TIME$/m);
    expect(table.stdout).toMatch(new RegExp(`^${id} +SUCCEEDED +SUCCEEDED +from the CLI +\\S+$`, 'm'));

    const released = await cli(['release', url, id, '--json']);
    expect(released.code, released.stderr).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ action_id: id, status: 'SUCCEEDED' });
    const gone = await cli(['status', url, id]);
    expect(gone).toMatchObject({ code: 1, stdout: '' });
    expect(gone.stderr).toMatch(/^globus-action-provider status: ActionNotFound \(HTTP 404\): /m);
  });

  it('run --watch --routes actions: the ACTIVE answer first, then each change to SUCCEEDED; --json on stdout', async () => {
    const file = join(freshDir(), 'request.json');
    writeFileSync(file, JSON.stringify({ input_string: 'from a file' }));
    const watched = await cli(['run', url, '--body', `@${file}`, '--routes', 'actions', '--watch', '--json']);
    expect(watched.code, watched.stderr).toBe(0);
    const done = JSON.parse(watched.stdout);
    expect(done).toMatchObject({ status: 'SUCCEEDED', details: { you_said: 'from a file' } });
    const lines = watchLines(watched.stderr);
    expect(lines[0]).toMatch(/ {2}ACTIVE {2}Queued$/);
    expect(lines.at(-1)).toMatch(/ {2}SUCCEEDED {2}\{"you_said":"from a file"\}$/);
    const released = await cli(['release', url, done.action_id, '--routes', 'actions']);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toMatch(/^status {2,}SUCCEEDED$/m);
  });
});

describe('status --watch shows an action’s progress as it changes (chunked work, Node)', () => {
  it('a line for each change of display_status and details, then the last status', async () => {
    const provider = await spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/work-provider.ts'], {
      DATA_DIR: freshDir(),
      POLL: '50',
    });
    cleanups.push(() => provider.stop());
    const token = await mint(USERS.creator);
    // Started here rather than by the CLI, so the watch begins while the work has most of its 3.2 s to go.
    const { action_id: id } = await actionProviderClient(provider.url, { token }).run({
      body: { chunks: 4, chunkMs: 800 },
    });
    const [node, prefix] = NODE_CLI;
    const watched = await exec(node, [...prefix, 'status', provider.url, id, '--watch'], {
      GLOBUS_ACTION_PROVIDER_TOKEN: token,
    });
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watchLines(watched.stderr);
    // Read at once and after 1 s, 2 s, ...: the work seen at least once before its end.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.slice(0, -1).every((line) => / {2}ACTIVE {2}(Queued|chunk [1-4] of 4)/.test(line))).toBe(true);
    expect(new Set(lines).size).toBe(lines.length); // a line only when something changed
    expect(lines.at(-1)).toMatch(/ {2}SUCCEEDED {2}\{"chunks":4,/);
    expect(watched.stdout).toMatch(/^status {2,}SUCCEEDED$/m);
    expect(watched.stdout).not.toMatch(/chunk \d of/); // stdout: the result only
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// In process: runCli with its output captured, against providers on real ports.

/** No dev key anywhere the CLI looks, unless a test says otherwise. */
const noKey = freshDir();

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { DATA_DIR: noKey, ...env },
  });
  return { code, stdout, stderr };
}

const CONSENT_SCOPE = `${SCOPE}[urn:globus:auth:scope:transfer.api.globus.org:all]`;
/** Run answers as the body says: ACTIVE, INACTIVE for consent or for a person, or ACTIVE then FAILED at the first poll. */
const provider = testProvider({
  run: ({ request: { body } }) => {
    if (field(body, 'consent') === true)
      return {
        status: 'INACTIVE',
        display_status: 'Consent required',
        details: {
          code: 'ConsentRequired',
          description: 'The user must consent to transfer',
          required_scope: CONSENT_SCOPE,
          authorization_parameters: {
            session_message: 'Consent to transfer, please',
            required_scopes: [CONSENT_SCOPE],
          },
        },
      };
    if (field(body, 'approval') === true)
      return { status: 'INACTIVE', display_status: 'Awaiting approval', details: { approver: 'admin@example.org' } };
    return { status: 'ACTIVE', display_status: 'Queued' };
  },
  status: ({ action }) =>
    field(action.request.body, 'fail') === true
      ? { status: 'FAILED', details: { code: 'Broken', description: 'it broke' } }
      : { status: action.status },
  resume: () => ({ status: 'ACTIVE', display_status: 'Resumed' }),
  log: () => ({ entries: [{ time: 't1', message: 'one' }, { n: 2 }], has_next_page: true, marker: 'm 2' }),
});
/** Sessions with MFA only, and callers from uchicago.edu. */
const sessionProvider = testProvider({ requireSession: { mfa: true, domains: ['uchicago.edu'] } });

let server: RunningServer;
let sessions: RunningServer;
let html: Host;
let token: string;
beforeAll(async () => {
  server = await listen(provider);
  sessions = await listen(sessionProvider);
  html = await listenNode((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html><head><title>404 Not Found</title></head><body>nginx</body></html>');
  });
  cleanups.push(
    () => server.close(),
    () => sessions.close(),
    () => html.stop(),
  );
  token = await mint(USERS.creator);
});

describe('--help, for every command', () => {
  const COMMANDS: [string, string[]][] = [
    ['introspect', []],
    [
      'run',
      ['--body', '--label', '--monitor-by', '--manage-by', '--release-after', '--request-id', '--deadline', '--watch'],
    ],
    ['status', ['--watch', '--timeout']],
    ['cancel', []],
    ['release', []],
    ['resume', []],
    ['log', ['--limit', '--marker']],
    ['list', ['--status', '--roles', '--limit']],
  ];
  it.each(COMMANDS)('%s --help: its usage and options on stdout, exit 0', async (name, options) => {
    const { code, stdout, stderr } = await cli([name, '--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^Usage: globus-action-provider ${name} URL`));
    for (const option of [...options, '--routes', '--json', '--token', '--dev-dir', 'Exit status'])
      expect(stdout).toContain(option);
  });

  it('the CLI lists them all', async () => {
    const { stdout } = await cli(['--help']);
    for (const [name] of COMMANDS) expect(stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
  });
});

describe('usage errors: exit 2, the message on stderr, nothing sent', () => {
  const url = 'http://127.0.0.1:9'; // nothing may be sent: a request there would fail as exit 1
  const cases: [string, string[], RegExp][] = [
    ['no URL', ['introspect'], /missing URL/],
    ['no ID', ['status', url], /missing ID/],
    ['a word too many', ['release', url, 'a', 'b'], /unexpected argument 'b' \(this command takes URL ID\)/],
    ['a URL that is no http(s) URL', ['introspect', 'example.org'], /URL must be a provider's http\(s\) URL/],
    ['an empty ID', ['status', url, ' '], /ID must not be empty/],
    ['an unknown route family', ['introspect', url, '--routes', 'v2'], /--routes must be legacy or actions/],
    ['an unknown option', ['status', url, 'x', '--wait'], /Unknown option '--wait'/],
    ['run without --body', ['run', url], /--body is required/],
    ['a --body that is no JSON', ['run', url, '--body', '{nope'], /--body must be JSON/],
    ['a --body that is no object', ['run', url, '--body', '[1]'], /--body must be a JSON object/],
    [
      'a --body file that is not there',
      ['run', url, '--body', '@/no/such/file.json'],
      /cannot read \/no\/such\/file\.json \(ENOENT\)/,
    ],
    ['a bad --monitor-by', ['run', url, '--body', '{}', '--monitor-by', 'alice'], /--monitor-by must be urn:globus/],
    [
      'a bad --manage-by in a list',
      ['run', url, '--body', '{}', '--manage-by', `urn:globus:groups:id:${USERS.member},x`],
      /not 'x'/,
    ],
    ['a bad --release-after', ['run', url, '--body', '{}', '--release-after', '30 days'], /--release-after must be/],
    [
      'a --deadline without an offset',
      ['run', url, '--body', '{}', '--deadline', '2030-01-01T00:00:00'],
      /--deadline must be/,
    ],
    ['an empty --label', ['run', url, '--body', '{}', '--label', ''], /--label must not be empty/],
    ['--timeout without --watch', ['status', url, 'x', '--timeout', '5'], /--timeout needs --watch/],
    ['a bad --timeout', ['status', url, 'x', '--watch', '--timeout', 'soon'], /--timeout must be/],
    ['a bad --limit', ['log', url, 'x', '--limit', '0'], /--limit must be a whole number from 1/],
    ['a bad --status', ['list', url, '--status', 'active,done'], /--status must be .* not 'DONE'/],
    ['a bad --roles', ['list', url, '--roles', 'owner'], /--roles must be .* not 'owner'/],
    ['an empty --token', ['list', url, '--token', ''], /--token must be a token/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await cli(args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/Run 'globus-action-provider \w+ --help' for usage\./);
  });

  it('the token command still takes no words', async () => {
    const { code, stderr } = await cli(['token', 'extra']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unexpected argument 'extra'/);
  });
});

describe('what the provider refuses, or no answer: exit 1, the code and description on stderr', () => {
  it('an unknown action: ActionNotFound (HTTP 404), nothing on stdout', async () => {
    for (const routes of ['legacy', 'actions']) {
      const { code, stdout, stderr } = await cli(['status', server.url, 'nope', '--token', token, '--routes', routes]);
      expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
      expect(stderr).toBe('globus-action-provider status: ActionNotFound (HTTP 404): No action with id nope\n');
    }
  });

  it('no token: UnauthorizedRequest, saying where a token comes from', async () => {
    const { code, stderr } = await cli(['list', server.url]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^globus-action-provider list: UnauthorizedRequest \(HTTP 401\): /);
    expect(stderr).toMatch(/No token was sent: pass one with --token or \$GLOBUS_ACTION_PROVIDER_TOKEN/);
  });

  it('a refused token: UnauthorizedRequest, and the token is in no output', async () => {
    const refused = await mint(USERS.creator, { scope: 'https://auth.globus.org/scopes/other/scope' });
    const { code, stdout, stderr } = await cli(['run', server.url, '--body', '{}'], {
      GLOBUS_ACTION_PROVIDER_TOKEN: refused,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/UnauthorizedRequest \(HTTP 401\)[\s\S]*refused the token/);
    expect(stdout + stderr).not.toContain(refused);
  });

  it('releasing an action still running: ActionConflict (HTTP 409)', async () => {
    const ran = await cli(['run', server.url, '--body', '{}', '--json', '--token', token]);
    const id = JSON.parse(ran.stdout).action_id;
    expect(ran.stderr).toBe(''); // --json: no hint on stderr
    const { code, stderr } = await cli(['release', server.url, id, '--token', token]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^globus-action-provider release: ActionConflict \(HTTP 409\): /);
  });

  it('an HTML page: UnexpectedResponse, naming the page and asking whether the URL is right', async () => {
    const { code, stdout, stderr } = await cli(['introspect', `${html.url}/echo`]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(
      /^globus-action-provider introspect: UnexpectedResponse \(HTTP 404\): HTTP 404 that is not an Action Provider's JSON error \(text\/html: 404 Not Found\) \(is http:\/\/127\.0\.0\.1:\d+\/echo\/ an Action Provider\?\)\n$/,
    );
  });

  it('a refused connection: NetworkError', async () => {
    const gone = await listen(provider);
    const url = gone.url;
    await gone.close();
    const { code, stderr } = await cli(['status', url, 'x', '--token', token]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^globus-action-provider status: NetworkError: no answer from http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it('a session requirement (403 with a GARE): how to log in, and to run again', async () => {
    const { code, stderr } = await cli(['run', sessions.url, '--body', '{}', '--token', token]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^globus-action-provider run: AuthorizationRequired \(HTTP 403\): /);
    expect(stderr).toContain(
      '  Log in again (AuthorizationRequired) with an identity from uchicago.edu; with multi-factor authentication (MFA), then get a new token.',
    );
    expect(stderr).toMatch(/ {2}Then run again\n$/);
    expect(stderr).not.toContain('In dev mode'); // the token was given, not minted from a dev key
    expect(stderr).not.toContain(token);
  });

  it('a policy requirement on an existing action: how to log in, and the resume command', async () => {
    const flows = await listenNode((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          code: 'AuthenticationPolicyRequired',
          authorization_parameters: { session_required_policies: ['p-1'], session_message: 'Meet the policy' },
        }),
      );
    });
    try {
      const { code, stderr } = await cli(['status', flows.url, 'a-1', '--token', token]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        [
          'globus-action-provider status: AuthenticationPolicyRequired (HTTP 403): Meet the policy',
          '  Log in again (AuthenticationPolicyRequired) so as to meet the authentication policies p-1, then get a new token.',
          `  Then resume: globus-action-provider resume ${flows.url} a-1`,
          '',
        ].join('\n'),
      );
    } finally {
      await flows.stop();
    }
  });

  it('with a dev-mode token, how to mint one that meets the requirement; which the provider then accepts', async () => {
    const dir = freshDir();
    const dev = await devAuth({ dir, scope: SCOPE });
    const devProvider = testProvider({ auth: dev.auth, requireSession: { mfa: true, domains: ['uchicago.edu'] } });
    const served = await listen(devProvider);
    try {
      const refused = await cli(['run', served.url, '--body', '{}', '--dev-dir', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^using a dev-mode token from the key in /);
      expect(refused.stderr).toContain(
        '  In dev mode: --token "$(globus-action-provider token --mfa --username you@uchicago.edu)"',
      );
      const minted = await runCliOut(['token', '--dir', dir, '--mfa', '--username', 'you@uchicago.edu']);
      const ran = await cli(['run', served.url, '--body', '{}', '--token', minted.trim()]);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^status {2,}ACTIVE$/m);
    } finally {
      await served.close();
    }
  });
});

/** stdout of a command that must succeed. */
async function runCliOut(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await cli(args);
  expect(code, stderr).toBe(0);
  return stdout;
}

describe('INACTIVE actions, and --watch ending otherwise than SUCCEEDED', () => {
  it('run of an action needing consent: exit 0, its status, and on stderr what to consent to and how to resume', async () => {
    const { code, stdout, stderr } = await cli(['run', server.url, '--body', '{"consent": true}', '--token', token]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^status {2,}INACTIVE$/m);
    const id = /^action_id {2,}(\S+)$/m.exec(stdout)?.[1] as string;
    expect(stderr).toBe(
      [
        'The action is INACTIVE until this is done:',
        '  Consent to transfer, please',
        `  Consent needed (ConsentRequired) to: ${CONSENT_SCOPE}`,
        `  Consent for the client your token comes from (with the Globus CLI: globus session consent '${CONSENT_SCOPE}'),`,
        '  then get a new token.',
        `  Then resume: globus-action-provider resume ${server.url} ${id}`,
        '',
      ].join('\n'),
    );
    const resumed = await cli(['resume', server.url, id, '--token', token, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'ACTIVE', display_status: 'Resumed' });
  });

  it('status --watch of an action waiting for a person: exit 1, saying so', async () => {
    const ran = JSON.parse(
      await runCliOut(['run', server.url, '--body', '{"approval": true}', '--json', '--token', token]),
    );
    const { code, stdout, stderr } = await cli(['status', server.url, ran.action_id, '--watch', '--token', token]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^display_status {2,}Awaiting approval$/m);
    expect(stderr).toMatch(/ {2}INACTIVE {2}Awaiting approval {2}\{"approver":"admin@example.org"\}\n/);
    expect(stderr).toMatch(/The action is INACTIVE: it waits for someone to act \(see its details\), then resume: /);
  });

  it('run --watch of an action that fails: exit 1, its last status on stdout', async () => {
    const { code, stdout, stderr } = await cli([
      'run',
      server.url,
      '--body',
      '{"fail": true}',
      '--watch',
      '--token',
      token,
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^status {2,}FAILED$/m);
    expect(watchLines(stderr).map((line) => line.slice(11))).toEqual([
      'ACTIVE  Queued',
      'FAILED  {"code":"Broken","description":"it broke"}',
    ]);
  });

  it('status --watch --timeout: gives up (exit 1) with the last status', async () => {
    const ran = JSON.parse(await runCliOut(['run', server.url, '--body', '{}', '--json', '--token', token]));
    const { code, stdout, stderr } = await cli([
      'status',
      server.url,
      ran.action_id,
      '--watch',
      '--timeout',
      '1',
      '--token',
      token,
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^status {2,}ACTIVE$/m);
    expect(stderr).toMatch(/gave up waiting: the deadline passed while it was ACTIVE/);
  });
});

describe('the other commands in process', () => {
  it('cancel; log with its next marker; list, empty; run with every option of the envelope', async () => {
    const monitor = `urn:globus:auth:identity:${USERS.monitor}`;
    const deadline = new Date(Date.now() + 86_400_000).toISOString();
    const manager = `urn:globus:auth:identity:${USERS.manager}`;
    const ran = JSON.parse(
      await runCliOut([
        'run',
        server.url,
        '--body',
        '{"x": 1}',
        '--label',
        'all options',
        '--monitor-by',
        monitor,
        '--manage-by',
        `${manager},urn:globus:groups:id:${USERS.member}`,
        '--release-after',
        '3600',
        '--request-id',
        'cli-all-options',
        '--deadline',
        deadline,
        '--json',
        '--token',
        token,
      ]),
    );
    expect(ran).toMatchObject({ label: 'all options', release_after: 'PT3600S' });
    expect(ran.monitor_by).toContain(monitor);
    expect(ran.manage_by).toEqual(expect.arrayContaining([manager, `urn:globus:groups:id:${USERS.member}`]));
    // The same request id: the same action.
    const again = JSON.parse(
      await runCliOut([
        'run',
        server.url,
        '--body',
        '{"x": 1}',
        '--label',
        'all options',
        '--monitor-by',
        monitor,
        '--manage-by',
        `${manager},urn:globus:groups:id:${USERS.member}`,
        '--release-after',
        '3600',
        '--request-id',
        'cli-all-options',
        '--deadline',
        deadline,
        '--json',
        '--token',
        token,
      ]),
    );
    expect(again.action_id).toBe(ran.action_id);

    const log = await cli(['log', server.url, ran.action_id, '--limit', '2', '--token', token]);
    expect(log.stdout).toBe('t1  one\n{"n":2}\n');
    expect(log.stderr).toBe(`More: globus-action-provider log ${server.url} ${ran.action_id} --marker "m 2"\n`);

    const canceled = await cli(['cancel', server.url, ran.action_id, '--token', token]);
    expect(canceled.code).toBe(0);
    expect(canceled.stdout).toMatch(/^status {2,}FAILED$/m);
    expect(canceled.stdout).toMatch(/^details {2,}\{"code":"ActionCanceled"/m);

    // Someone with no actions there.
    const stranger = await mint(USERS.stranger);
    const none = await cli(['list', server.url, '--status', 'inactive', '--roles', 'monitor_by', '--token', stranger]);
    expect(none).toEqual({ code: 0, stdout: '', stderr: 'No actions.\n' });
  });

  it('run, in a readable form, says how to follow an ACTIVE action', async () => {
    const { code, stderr } = await cli(['run', server.url, '--body', '{}', '--routes', 'actions', '--token', token]);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      new RegExp(`^Follow it with: globus-action-provider status ${server.url} \\S+ --routes actions --watch\\n$`),
    );
  });

  it('an error thrown by the provider’s callback is its code and description', async () => {
    const broken = testProvider({
      run: () => {
        throw new ActionError('BadActionRequest', 'that will not do');
      },
    });
    const served = await listen(broken);
    try {
      const { code, stderr } = await cli(['run', served.url, '--body', '{}', '--token', token]);
      expect(code).toBe(1);
      expect(stderr).toBe('globus-action-provider run: BadActionRequest (HTTP 400): that will not do\n');
    } finally {
      await served.close();
    }
  });
});

describe('list follows the pages', () => {
  it('prints every action of many pages, newest first; --limit the newest n only', async () => {
    const store = memoryStore();
    const records = Array.from({ length: 2_100 }, () => record({ creator_id: urn(USERS.creator) }));
    for (const r of records) await store.create(r);
    const newestFirst = records.map((r) => r.action_id).reverse();
    const paged = await listen(testProvider({ store }));
    cleanups.push(() => paged.close());
    const ids = (stdout: string) => (JSON.parse(stdout) as { action_id: string }[]).map((a) => a.action_id);
    const all = await cli(['list', paged.url, '--json', '--token', token]);
    expect(all.code, all.stderr).toBe(0);
    expect(ids(all.stdout)).toEqual(newestFirst);
    for (const limit of [1, 5, 1000, 1500, 5000]) {
      const some = await cli(['list', paged.url, '--json', '--limit', String(limit), '--token', token]);
      expect(some.code, some.stderr).toBe(0);
      expect(ids(some.stdout)).toEqual(newestFirst.slice(0, limit));
    }
    const table = await cli(['list', paged.url, '--limit', '3', '--token', token]);
    expect(table.stdout.trim().split('\n')).toHaveLength(4); // a header line and three rows
    expect((await cli(['list', paged.url, '--limit', '-1', '--token', token])).code).toBe(2); // read as an option
    for (const bad of ['0', 'x', '1.5', '1e3']) {
      const refused = await cli(['list', paged.url, '--limit', bad, '--token', token]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--limit must be a whole number from 1/);
    }
  });
});
