/**
 * @module test/example: README's first quick-start line, as a newcomer runs it: the example
 * starts in dev mode and the curl command it prints works when pasted into a shell.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { actionClient, fakeGlobus } from '../src/testing/index.ts';
import { listen } from '../src/testing/node.ts';
import { type Spawned, spawnProcess } from './support/processes.ts';

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

/** Start examples/node.ts (as `npm start` does) and wait for the printed curl command (or `ready`). */
async function startExample(
  env: Record<string, string>,
  ready = /^\s*(curl .*)\n/m,
): Promise<{ output: string; curl: string; example: Spawned }> {
  const example = await spawnProcess(process.execPath, ['--import', 'tsx', 'examples/node.ts'], {
    env: { DATA_DIR: freshDataDir(), ...env },
    ready,
    timeout: 15_000,
  });
  children.push(example);
  return { output: example.output(), curl: example.match?.[1]?.trim() ?? '', example };
}

describe('examples/node.ts (npm start)', () => {
  it('says it is in dev mode and prints a curl command that runs the echo action', async () => {
    const { output, curl } = await startExample({ PORT: '0' });
    expect(output).toMatch(/DEV MODE/);
    const first = await run('bash', ['-c', `${curl} -w '\\n%{http_code}'`]);
    const [body, status] = first.stdout.trim().split('\n');
    expect(status).toBe('202');
    const action = JSON.parse(body ?? '');
    expect(action).toMatchObject({ status: 'SUCCEEDED', details: { you_said: 'hello' } });
    // Pasting it again is an idempotent rerun: the same action, 200.
    const again = await run('bash', ['-c', `${curl} -w '\\n%{http_code}'`]);
    const [body2, status2] = again.stdout.trim().split('\n');
    expect(status2).toBe('200');
    expect(JSON.parse(body2 ?? '').action_id).toBe(action.action_id);
  });

  it('honours PROVIDER_PREFIX and stops cleanly on SIGTERM', async () => {
    const { curl, example } = await startExample({ PORT: '0', PROVIDER_PREFIX: '/tools/echo' });
    expect(curl).toMatch(/\/tools\/echo\/run /);
    const url = /(http:\/\/\S+)\/run/.exec(curl)?.[1] ?? '';
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

  it('keeps its actions across a restart (embedded SQLite in DATA_DIR)', async () => {
    const dataDir = freshDataDir();
    const first = await startExample({ PORT: '0', DATA_DIR: dataDir });
    const ran = await run('bash', ['-c', `${first.curl} -w '\\n%{http_code}'`]);
    const action = JSON.parse(ran.stdout.trim().split('\n')[0] ?? '');
    first.example.child.kill('SIGTERM');
    await first.example.exited;
    // The dev key and identity live in DATA_DIR too: after a restart the same token still
    // works, and the action is still there.
    const second = await startExample({ PORT: '0', DATA_DIR: dataDir });
    const token = /Bearer ([^']+)'/.exec(first.curl)?.[1] ?? '';
    const url = /(http:\/\/\S+)\/run/.exec(second.curl)?.[1] ?? '';
    const status = await actionClient(url, { token }).status(action.action_id);
    expect(status.status).toBe(200);
    expect(status.body).toEqual(action);
  });
});
