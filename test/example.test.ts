/**
 * @module test/example: README's first quick-start line, as a newcomer runs it: the example
 * starts in dev mode, and the commands it prints (run, status, release; a fresh token) work
 * when pasted into bash.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { actionClient, fakeGlobus } from '../src/testing/index.ts';
import { listen } from '../src/testing/node.ts';
import { ROOT, type Spawned, spawnProcess } from './support/processes.ts';

const run = promisify(execFile);
const children: Spawned[] = [];
const dataDirs: string[] = [];
/** A fresh DATA_DIR, removed after the file's tests. */
const freshDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-example-'));
  dataDirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Start examples/node.ts (as `npm start` does) and wait for the banner's last command (or `ready`). */
async function startExample(
  env: Record<string, string>,
  ready = /^ {2}curl -s -X POST .*\/release.*\n/m,
): Promise<{ output: string; example: Spawned }> {
  const example = await spawnProcess(process.execPath, ['--import', 'tsx', 'examples/node.ts'], {
    env: { DATA_DIR: freshDataDir(), ...env },
    ready,
    timeout: 15_000,
  });
  children.push(example);
  return { output: example.output(), example };
}

/** The banner's commands (a line each, as pasted), its token, where it listens and the request_id it sends. */
function commandsOf(output: string) {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(TOKEN=|RUN=|ID=|curl )/.test(line) || /^A fresh token any time: /.test(line));
  const fresh = lines.find((line) => line.startsWith('A fresh token any time: '));
  const script = lines.filter((line) => line !== fresh);
  return {
    script,
    token: /^TOKEN=(\S+)$/.exec(script[0] ?? '')?.[1] ?? '',
    url: /POST (http:\/\/\S+)\/run /.exec(script[1] ?? '')?.[1] ?? '',
    requestId: /"request_id":"([^"]+)"/.exec(script[1] ?? '')?.[1] ?? '',
    tokenCommand: fresh?.slice('A fresh token any time: '.length) ?? '',
  };
}

/** `lines` pasted into bash, one after another; its stdout, a line per command that prints. */
async function paste(lines: string[]): Promise<string[]> {
  const { stdout } = await run('bash', ['-c', lines.join('\n')], { cwd: ROOT });
  return stdout.trim().split('\n');
}

describe('examples/node.ts (npm start)', () => {
  it('says it is in dev mode and prints commands that run an action, read its status and release it', async () => {
    const { output } = await startExample({ PORT: '0' });
    expect(output).toMatch(/DEV MODE/);
    const { script, url } = commandsOf(output);
    expect(script).toHaveLength(5);
    const [ran, status, released] = (await paste(script)).map((line) => JSON.parse(line));
    expect(ran).toMatchObject({ status: 'SUCCEEDED', details: { you_said: 'hello' } });
    expect(status).toEqual(ran);
    expect(released).toEqual(ran);
    // Released: gone.
    const token = commandsOf(output).token;
    expect((await actionClient(url, { token }).status(ran.action_id)).status).toBe(404);
  });

  it('prints a token command whose token the provider accepts', async () => {
    const { output } = await startExample({ PORT: '0' });
    const { tokenCommand, url } = commandsOf(output);
    expect(tokenCommand).toMatch(/^TOKEN=\$\(npm run -s token -- --dir \S+\)$/);
    const [token] = await paste([tokenCommand, 'printf "%s\\n" "$TOKEN"']);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const ran = await actionClient(url, { token: token ?? '' }).run({ body: { input_string: 'fresh' } });
    expect(ran.status).toBe(202);
  });

  it('honours PROVIDER_PREFIX and stops cleanly on SIGTERM', async () => {
    const { output, example } = await startExample({ PORT: '0', PROVIDER_PREFIX: '/tools/echo' });
    const { url } = commandsOf(output);
    expect(url).toMatch(/\/tools\/echo$/);
    const introspection = await actionClient(url).introspect();
    expect(introspection.status).toBe(200);
    expect(introspection.body.title).toBe('Echo');
    example.child.kill('SIGTERM');
    expect((await example.exited).code).toBe(0);
  });

  it('authenticates with Globus Auth when GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET are set', async () => {
    const scope = 'https://auth.globus.org/scopes/7a5e3d1c-0000-4000-8000-000000000001/echo';
    const globus = fakeGlobus();
    const fake = await listen(globus.app);
    try {
      const { output } = await startExample(
        {
          PORT: '0',
          PROVIDER_SCOPE: scope,
          GLOBUS_CLIENT_ID: globus.client.id,
          GLOBUS_CLIENT_SECRET: globus.client.secret,
          GLOBUS_SDK_SERVICE_URL_AUTH: `${fake.url}/`,
          GLOBUS_SDK_SERVICE_URL_GROUPS: `${fake.url}/`,
        },
        /listening on .*\n/,
      );
      expect(output).not.toMatch(/DEV MODE/);
      const url = /listening on (http:\/\/\S+?)\/? /.exec(output)?.[1] ?? '';
      const token = globus.issueToken({ user: crypto.randomUUID(), scopes: [scope] });
      const client = actionClient(url, { token });
      const run = await client.run({ body: { input_string: 'via Globus' } });
      expect(run.status).toBe(202);
      expect(run.body.details).toEqual({ you_said: 'via Globus' });
      expect(globus.calls.introspect).toBe(1);
      expect((await client.withToken('not-a-globus-token').status(run.body.action_id)).status).toBe(401);
    } finally {
      await fake.close();
    }
  });

  it('keeps its actions and key across a restart, and prints a fresh request_id each time', async () => {
    const dataDir = freshDataDir();
    const first = await startExample({ PORT: '0', DATA_DIR: dataDir });
    const before = commandsOf(first.output);
    const [ran] = (await paste(before.script.slice(0, 2))).map((line) => JSON.parse(line));
    first.example.child.kill('SIGTERM');
    await first.example.exited;
    // The dev key and identity live in DATA_DIR too: after a restart the same token still
    // works, and the action is still there.
    const second = await startExample({ PORT: '0', DATA_DIR: dataDir });
    const after = commandsOf(second.output);
    const status = await actionClient(after.url, { token: before.token }).status(ran.action_id);
    expect(status.status).toBe(200);
    expect(status.body).toEqual(ran);
    // The second banner's run is a new request, so a new action (pasting one banner twice is
    // an idempotent rerun of the same one).
    expect(after.requestId).not.toBe(before.requestId);
    const [again] = (await paste(after.script.slice(0, 2))).map((line) => JSON.parse(line));
    expect(again.action_id).not.toBe(ran.action_id);
    const [rerun] = (await paste(after.script.slice(0, 2))).map((line) => JSON.parse(line));
    expect(rerun.action_id).toBe(again.action_id);
  });
});
