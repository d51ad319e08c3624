/**
 * @module test/hostile-provider: the client, the CLI and `check` against providers on real ports
 * that answer what no honest one does: an action id that is a dot segment (`..` would take the
 * next request, token and all, to another route), a body without end, no answer at all during a
 * `waitFor` with a deadline, control characters (ANSI, OSC) in the strings the CLI prints, and
 * the caller's token quoted back, whole or where a report cuts a body short.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProvider } from '../src/check/check-provider.ts';
import { formatReport } from '../src/check/report.ts';
import { runCli } from '../src/cli/run.ts';
import { actionProviderClient, isActionProviderError } from '../src/client/index.ts';
import { type Host, listenNode } from './support/hosts.ts';

const TOKEN = 'hostile-test-token-0123456789abcdefghijklmnopqrstuvwxyz';
const CREATOR = 'urn:globus:auth:identity:00000000-0000-4000-8000-000000000001';
/** Clears the screen, turns the text red and plants a hyperlink: what a terminal must never get from a provider. */
const ESCAPES = '\x1b[2J\x1b[31m\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x9b0m\r';
const DESCRIPTION = {
  types: ['Action'],
  api_version: '1.0',
  title: 'hostile',
  synchronous: false,
  log_supported: false,
  runnable_by: ['all_authenticated_users'],
  globus_auth_scope: 'https://auth.globus.org/scopes/00000000-0000-4000-8000-000000000002/action_all',
  admin_contact: 'admin@example.org',
  input_schema: { type: 'object' },
};

/** Every request a hostile server got: `METHOD path`. */
const seen: string[] = [];
const hosts: Host[] = [];
afterAll(() => Promise.all(hosts.map((host) => host.stop())));

const sendJson = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof value === 'string' ? value : JSON.stringify(value));
};

async function hostile(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const host = await listenNode((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    answer(req, res);
  });
  hosts.push(host);
  return host.url;
}

let dotDot: string;
let endless: string;
let silent: string;
let escapes: string;
let echo: string;
beforeAll(async () => {
  // Runs answer an action whose id is `..`; anything else is an ActionStatus of a plain id.
  dotDot = await hostile((req, res) => {
    if (req.method === 'GET' && req.url?.endsWith('/prefix/')) return sendJson(res, 200, DESCRIPTION);
    sendJson(res, 202, { action_id: '..', status: 'SUCCEEDED', creator_id: CREATOR, details: {} });
  });
  // A 200 whose body never ends (until the client goes away).
  endless = await hostile((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    res.write('{"action_id":"a","status":"ACTIVE","details":');
    pump();
  });
  // Never answers.
  silent = await hostile(() => {});
  // Every string of the status, and the error, full of control characters.
  escapes = await hostile((req, res) => {
    if (req.url?.startsWith('/gone/'))
      return sendJson(res, 404, { code: `ActionNotFound${ESCAPES}`, description: ESCAPES });
    sendJson(res, 200, {
      action_id: 'abc',
      status: 'ACTIVE',
      display_status: `Queued${ESCAPES}`,
      label: ESCAPES,
      creator_id: CREATOR,
      details: { note: ESCAPES },
    });
  });
  // Quotes the caller's Authorization header back in every error but the description's; placed
  // so that a reason quoting the first 120 characters of the body cuts the token in two.
  echo = await hostile((req, res) => {
    if (req.method === 'GET' && req.url === '/') return sendJson(res, 200, DESCRIPTION);
    const said = `${'x'.repeat(55)}${req.headers.authorization ?? ''}`;
    sendJson(res, 404, `{"code":"ActionNotFound","description":"${said}"}`);
  });
});

describe('the client', () => {
  it('refuses an action id that is a dot segment, sending nothing (`..` would reach another route)', async () => {
    const client = actionProviderClient(`${dotDot}/prefix/`, { token: TOKEN });
    const actions = actionProviderClient(`${dotDot}/prefix/`, { token: TOKEN, routes: 'actions' });
    const before = seen.length;
    for (const id of ['..', '.', '%2e%2E', '']) {
      await expect(client.status(id)).rejects.toThrow(TypeError);
      await expect(actions.release(id)).rejects.toThrow(TypeError);
    }
    expect(seen.length).toBe(before);
  });

  it('takes no ActionStatus whose action_id is `..` (a run answering one is UnexpectedResponse)', async () => {
    const client = actionProviderClient(`${dotDot}/prefix/`, { token: TOKEN });
    const error = await client.run({ body: {} }).catch((e: unknown) => e);
    expect(isActionProviderError(error) && error.code).toBe('UnexpectedResponse');
  });

  it('stops reading a body without end: UnexpectedResponse, not memory filled', async () => {
    const client = actionProviderClient(endless, { token: TOKEN });
    const error = await client.status('a').catch((e: unknown) => e);
    expect(isActionProviderError(error) && error.code).toBe('UnexpectedResponse');
    expect(String((error as Error).message)).toMatch(/longer than \d+ bytes/);
  });

  it('ends waitFor at its deadline even while a read is under way that the provider never answers', async () => {
    const client = actionProviderClient(silent, { token: TOKEN });
    const error = await client.waitFor('a', { deadline: Date.now() + 200 }).catch((e: unknown) => e);
    expect(isActionProviderError(error) && error.code).toBe('DeadlineExceeded');
  }, 30_000);

  it('rejects on abort even when fetch does not hear the signal (Node loses it after a garbage collection)', async () => {
    // A fetch that sends the request without its signal: what Node's does once the Request it
    // followed the signal through was collected.
    const deaf = (request: Request) => fetch(request.url, { method: request.method, headers: request.headers });
    const client = actionProviderClient(silent, { token: TOKEN, fetch: deaf });
    const controller = new AbortController();
    const reading = client.status('a', { signal: controller.signal });
    const waiting = client.waitFor('a', { signal: controller.signal });
    controller.abort(new Error('stopped by the caller'));
    await expect(reading).rejects.toThrow('stopped by the caller');
    await expect(waiting).rejects.toThrow('stopped by the caller');
  });
});

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { DATA_DIR: '/nonexistent-hostile-test' },
  });
  return { code, stdout, stderr };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the very characters a terminal must not get.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('the CLI', () => {
  it('prints no control character of the provider, in the summary, in --json, or in an error', async () => {
    for (const args of [[], ['--json']]) {
      const shown = await cli(['status', escapes, 'abc', '--token', TOKEN, ...args]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('Queued');
      expect(shown.stdout + shown.stderr).not.toMatch(CONTROL);
    }
    expect(JSON.parse((await cli(['status', escapes, 'abc', '--token', TOKEN, '--json'])).stdout)).toMatchObject({
      display_status: `Queued${ESCAPES}`,
    });
    const refused = await cli(['status', `${escapes}/gone`, 'abc', '--token', TOKEN]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ActionNotFound');
    expect(refused.stderr).not.toMatch(CONTROL);
  });

  it('never prints the token, even when the provider quotes it back', async () => {
    const refused = await cli(['status', echo, 'abc', '--token', TOKEN]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Bearer <token>');
    expect(refused.stdout + refused.stderr).not.toContain(TOKEN.slice(0, 16));
  });

  it('takes no ID that is a dot segment (exit 2, nothing sent)', async () => {
    const before = seen.length;
    for (const id of ['..', '.']) {
      const refused = await cli(['release', `${dotDot}/prefix`, id, '--token', TOKEN, '--routes', 'actions']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('a URL cannot hold it');
    }
    expect(seen.length).toBe(before);
  });
});

describe('check', () => {
  it('shows not even the first characters of a token the provider quotes where a reason cuts the body', async () => {
    const report = await checkProvider({ url: echo, token: TOKEN, otherToken: `${TOKEN}-other`, timeoutMs: 2_000 });
    const text = formatReport(report);
    expect(text).toContain('Bearer <token>');
    expect(text + JSON.stringify(report)).not.toContain(TOKEN.slice(0, 12));
  });

  it('fails a run answering action_id `..` and sends nothing to the routes that id would reach', async () => {
    const before = seen.length;
    const report = await checkProvider({ url: `${dotDot}/prefix/`, token: TOKEN, timeoutMs: 2_000, waitMs: 0 });
    const run = report.checks.find((check) => check.id === 'run');
    expect(run?.outcome).toBe('fail');
    expect(run?.reason).toContain('dot segment');
    const sent = seen.slice(before);
    // `${base}/../status` would resolve to `/status`, `/../release` to `/release`: outside the provider.
    expect(sent.filter((line) => !line.includes('/prefix/'))).toEqual([]);
    expect(report.actions.remaining).toContain('..');
  });
});
