/**
 * @module cli/watch: `--watch`, following an action to its end with the client's `waitFor`: a
 * line on stderr each time its status, display status or details change, then the last status
 * on stdout. The exit code says how it ended: 0 SUCCEEDED, 1 FAILED or waiting for a person
 * (INACTIVE, with what they must do), 1 past `--timeout`.
 */
import type { ActionProviderClient } from '../client/client.ts';
import { ActionProviderError } from '../client/errors.ts';
import { expiresInSeconds } from '../dev/mint.ts';
import type { ActionStatus } from '../model.ts';
import { type CliIo, UsageError } from './command.ts';
import { formatStatus, json, statusLine } from './format.ts';
import { type AdviceContext, inactiveNotice } from './requirement.ts';

/** A person is watching: read again after 1 s, 2 s, 4 s, 8 s, then every 10 s (Flows goes on doubling to 10 minutes). */
const WATCH_MAX_DELAY = 10_000;

export const WATCH_HELP = `  --watch               follow the action until it ends, a line on stderr each time it changes
  --timeout <time>      with --watch, give up after this long: seconds, or 90s, 30m, 12h`;

/** `--timeout`, checked, in ms; undefined when not given. */
export function watchTimeout(value: string | undefined, watching: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!watching) throw new UsageError('--timeout needs --watch');
  const seconds = expiresInSeconds(value);
  if (seconds === undefined) throw new UsageError('--timeout must be seconds, or 90s, 30m, 12h (up to 30d)');
  return seconds * 1_000;
}

export interface WatchCall {
  client: ActionProviderClient;
  io: CliIo;
  json: boolean;
  /** The status already in hand (run's answer), shown first; the wait reads on from there. */
  first?: ActionStatus | undefined;
  timeout: number | undefined;
  /** For an action that ends INACTIVE: what to do next (resume), and whether the token is a dev one. */
  advice: AdviceContext;
}

const change = (s: ActionStatus) => JSON.stringify([s.status, s.display_status, s.details]);

/** Follow the action to its end; the exit code. */
export async function watch(actionId: string, call: WatchCall): Promise<number> {
  const { client, io } = call;
  let previous = '';
  const show = (status: ActionStatus) => {
    const now = change(status);
    if (now !== previous) io.stderr(`${statusLine(status, Date.now())}\n`);
    previous = now;
  };
  if (call.first !== undefined) show(call.first);
  let last: ActionStatus;
  try {
    last = await client.waitFor(actionId, {
      maxDelay: WATCH_MAX_DELAY,
      onStatus: show,
      ...(call.timeout === undefined ? {} : { deadline: Date.now() + call.timeout }),
    });
  } catch (error) {
    if (!(error instanceof ActionProviderError) || error.code !== 'DeadlineExceeded') throw error;
    io.stderr(`gave up waiting: ${error.description}\n`);
    if (error.action !== undefined) io.stdout(call.json ? json(error.action) : formatStatus(error.action));
    return 1;
  }
  io.stdout(call.json ? json(last) : formatStatus(last));
  if (last.status === 'SUCCEEDED') return 0;
  const notice = inactiveNotice(last, call.advice);
  if (notice !== undefined) io.stderr(notice);
  return 1;
}
