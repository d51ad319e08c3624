/**
 * @module cli/commands/run: `globus-action-provider run URL --body JSON|@file`, start an action
 * (the ActionRequest built from the options) and show its status, or follow it with `--watch`.
 */
import { readFile } from 'node:fs/promises';
import type { RunRequest } from '../../client/client.ts';
import { ISO8601_DURATION } from '../../duration.ts';
import { DATE_TIME, isPlainObject, type JsonObject, PRINCIPAL_URN } from '../../model.ts';
import { UsageError } from '../command.ts';
import { formatStatus, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';
import { inactiveNotice } from '../requirement.ts';
import { WATCH_HELP, watch, watchTimeout } from '../watch.ts';

const help = `Usage: globus-action-provider run URL --body JSON|@file [options]

Start an action on the Action Provider at URL (POST URL/run, or URL/actions with --routes
actions) and print its status; with --watch, follow it until it ends.

  npx globus-action-provider run http://127.0.0.1:8080 --body '{"input_string": "hi"}'
  npx globus-action-provider run https://actions.example.org/echo --body @request.json --watch

Options:
  --body <json|@file>   the action's input: a JSON object, or @ and a file that holds one
  --label <text>        a label for the action (1 to 64 characters)
  --monitor-by <urn>    a principal who may see the action (repeat, or separate with commas)
  --manage-by <urn>     a principal who may cancel, release or resume it (the same)
  --release-after <d>   how long the provider keeps it once it ends: an ISO 8601 duration
                        (P30D, PT12H) or seconds
  --request-id <id>     the request id (default a new UUID): the same id sent again answers the
                        same action instead of starting another
  --deadline <time>     when the action must end: an ISO 8601 date-time with an offset
${WATCH_HELP}
${PROVIDER_HELP}

The principals are urn:globus:auth:identity:<uuid> or urn:globus:groups:id:<uuid>.
${EXIT_HELP}
With --watch: 0 once the action SUCCEEDED; 1 if it FAILED, waits for a person (INACTIVE: what
they must do is on stderr) or outlasts --timeout.
`;

async function body(value: string | undefined): Promise<JsonObject> {
  if (value === undefined) throw new UsageError('--body is required (a JSON object, or @file)');
  let text = value;
  if (value.startsWith('@')) {
    const file = value.slice(1);
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--body ${value}: cannot read ${file} (${(error as { code?: string }).code ?? String(error)})`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--body must be JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new UsageError('--body must be a JSON object ({...})');
  return parsed;
}

function principals(name: string, values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const all = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  const bad = all.find((p) => !PRINCIPAL_URN.test(p));
  if (bad !== undefined)
    throw new UsageError(
      `--${name} must be urn:globus:auth:identity:<uuid> or urn:globus:groups:id:<uuid>, not '${bad}'`,
    );
  return all;
}

function releaseAfter(value: string | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  if (ISO8601_DURATION.test(value)) return value;
  throw new UsageError(`--release-after must be an ISO 8601 duration (P30D) or seconds, not '${value}'`);
}

export const run = providerCommand({
  name: 'run',
  summary: 'start an action (--watch to follow it)',
  help,
  options: {
    body: { type: 'string' },
    label: { type: 'string' },
    'monitor-by': { type: 'string', multiple: true },
    'manage-by': { type: 'string', multiple: true },
    'release-after': { type: 'string' },
    'request-id': { type: 'string' },
    deadline: { type: 'string' },
    watch: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  positionals: ['URL'],
  check: async (values) => {
    const timeout = watchTimeout(values.timeout, values.watch === true);
    if (values.label === '') throw new UsageError('--label must not be empty');
    if (values['request-id'] === '') throw new UsageError('--request-id must not be empty');
    if (values.deadline !== undefined && !DATE_TIME.test(values.deadline))
      throw new UsageError(`--deadline must be an ISO 8601 date-time with an offset (2030-01-01T00:00:00Z)`);
    const monitorBy = principals('monitor-by', values['monitor-by']);
    const manageBy = principals('manage-by', values['manage-by']);
    const after = releaseAfter(values['release-after']);
    const request: RunRequest = {
      body: await body(values.body),
      ...(values['request-id'] === undefined ? {} : { request_id: values['request-id'] }),
      ...(values.label === undefined ? {} : { label: values.label }),
      ...(monitorBy === undefined ? {} : { monitor_by: monitorBy }),
      ...(manageBy === undefined ? {} : { manage_by: manageBy }),
      ...(after === undefined ? {} : { release_after: after }),
      ...(values.deadline === undefined ? {} : { deadline: values.deadline }),
    };
    return { request, watch: values.watch === true, timeout };
  },
  run: async ({ input: { request, watch: watching, timeout }, client, io, json: asJson, again, advice }) => {
    const status = await client.run(request);
    // Hints name the id the provider gave.
    const next = { ...advice, next: `resume: ${again('resume', status.action_id)}` };
    if (watching) return watch(status.action_id, { client, io, json: asJson, first: status, timeout, advice: next });
    io.stdout(asJson ? json(status) : formatStatus(status));
    const notice = inactiveNotice(status, next);
    if (notice !== undefined) io.stderr(notice);
    else if (!asJson && status.status === 'ACTIVE')
      io.stderr(`Follow it with: ${again('status', status.action_id)} --watch\n`);
    return 0;
  },
});
