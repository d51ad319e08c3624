/**
 * @module cli/commands/check: `globus-action-provider check URL`, the conformance checker
 * (check/) at the command line: tokens from the usual places (a dev-mode key mints the second
 * identity's too), the body from `--body`, progress on stderr, and the report on stdout, as text
 * or `--json`; exit 1 when a check failed.
 */
import { readFile } from 'node:fs/promises';
import { checkProvider, REQUEST_BOUND } from '../../check/check-provider.ts';
import { formatReport } from '../../check/report.ts';
import type { CheckProgress } from '../../check/types.ts';
import { isPlainObject, type JsonObject } from '../../model.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { resolveToken, TOKEN_ENV, TOKEN_HELP, tokenOptions } from '../token-source.ts';

const help = `Usage: globus-action-provider check URL [options]

Check the Action Provider at URL (ours, one built with the Python toolkit, or one written by
hand) against the Action Provider Interface and what Globus Flows and other Globus clients rely
on: the description, every route of both families (/run, /{id}/status, ... and /actions),
every ActionStatus against its schema, error bodies and status codes (unknown ids, wrong
methods, missing and bad tokens, bad envelopes, bad input), idempotent request_id, release and
the 404 after it, CORS preflights, and, with a second identity's token, that it can neither see
nor manage the first one's actions. Each check passes, fails (with the request and the answer,
tokens redacted) or does not apply, and names what it rests on.

Options:
  --body <json|@file>   the body to run with (default: one made from the provider's
                        input_schema when that is simple; otherwise the checks that need an
                        action do not apply)
${TOKEN_HELP}
  --other-token <token> a token of another identity, for the isolation checks (default: with a
                        dev-mode key, a token minted for a random identity)
  --json                the report as JSON on stdout, for CI
  --timeout <seconds>   for each request (default 10)
  --wait <seconds>      how long to wait for an action to complete before releasing it
                        (default 30)
  -h, --help            show this help

It sends at most ${REQUEST_BOUND} requests (about 75 to a provider that completes its actions at
once), one at a time, and releases every action it creates; it touches nothing else.
Exit status: 0 when no check failed, 1 when one did, 2 for bad arguments.
`;

const options = {
  ...tokenOptions,
  'other-token': { type: 'string' },
  body: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  wait: { type: 'string' },
} as const;

function seconds(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < min || number > 3_600)
    throw new UsageError(`--${name} must be a number of seconds from ${min} to 3600`);
  return number * 1000;
}

async function readBody(value: string | undefined): Promise<JsonObject | undefined> {
  if (value === undefined) return undefined;
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`--body: cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError('--body must be JSON (or @file holding JSON)');
  }
  if (!isPlainObject(body)) throw new UsageError('--body must be a JSON object');
  return body;
}

function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`'${text}' is no URL: expected http(s)://host/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('the URL must be http or https');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    throw new UsageError('the URL must be the provider base, without query, fragment or credentials');
  return url.href;
}

const isToken = (value: string) => value.trim() !== '' && !/\s/.test(value.trim());

/**
 * Progress on stderr: one line rewritten in place on a terminal, else (a CI log) a line at most
 * every few seconds, so a slow provider shows where it is without repeating the report.
 */
function progress(io: CliIo): { tell(progress: CheckProgress): void; end(): void } {
  const tty = io.terminal;
  let last = Date.now();
  return {
    tell({ done, total, id }) {
      if (tty) tty(`\r\x1b[K[${done}/${total}] ${id}`);
      else if (Date.now() - last >= 2_000) {
        last = Date.now();
        io.stderr(`check: ${done} of ${total} checks decided (${id})\n`);
      }
    },
    end() {
      if (tty) tty('\r\x1b[K');
    },
  };
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options, ['URL']);
  const url = baseUrl(positionals[0] as string);
  const body = await readBody(values.body);
  const timeoutMs = seconds(values.timeout, 'timeout', 0.1);
  const waitMs = seconds(values.wait, 'wait', 0);
  if (values['other-token'] !== undefined && !isToken(values['other-token']))
    throw new UsageError('--other-token must be a token');

  const token = await resolveToken(values, io);
  let otherToken = values['other-token']?.trim();
  const fromDevKey = token !== undefined && values.token === undefined && !io.env[TOKEN_ENV]?.trim();
  if (otherToken === undefined && fromDevKey) {
    // The same key, another (random) identity: quietly, and never the environment's token.
    const quiet: CliIo = { stdout: io.stdout, stderr: () => {}, env: { ...io.env, [TOKEN_ENV]: undefined } };
    otherToken = await resolveToken({ 'dev-dir': values['dev-dir'] }, quiet, { identity: crypto.randomUUID() });
  }
  if (otherToken !== undefined && otherToken === token)
    throw new UsageError("--other-token must be another identity's token, not the caller's");

  if (token === undefined)
    io.stderr(`no token (--token, $${TOKEN_ENV} or a dev-mode key): only the checks that need none are made\n`);
  const shown = progress(io);
  io.stderr(`checking ${url} (at most ${REQUEST_BOUND} requests)\n`);
  const report = await checkProvider({
    url,
    ...(token === undefined ? {} : { token }),
    ...(otherToken === undefined ? {} : { otherToken }),
    ...(body === undefined ? {} : { body }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(waitMs === undefined ? {} : { waitMs }),
    onProgress: shown.tell,
  });
  shown.end();
  io.stdout(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

export const check: Command = {
  name: 'check',
  summary: 'check any Action Provider against the interface and what Flows relies on',
  help,
  run,
};
