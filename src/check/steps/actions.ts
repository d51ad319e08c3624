/**
 * @module check/steps/actions: an action's life in each route family: run, status, log, the
 * list, resume, cancel, and release followed by the 404 that proves it gone. Before a release
 * the checker waits a bounded while for the action to complete, polling as Flows does.
 */
import { isPlainObject, type JsonObject } from '../../model.ts';
import { ACTION_ROUTES, type ActionRoute, type Family, routeCheck, routeOf } from '../catalog.ts';
import type { CheckContext } from '../context.ts';
import type { Sent } from '../exchange.ts';
import { actionStatusProblems, askedFirst, errorProblems, requirementOf, statusProblems, TERMINAL } from '../expect.ts';
import { newRequestId } from './ids.ts';

/** An action the checker made on purpose, one per route family. */
export interface Made {
  family: Family;
  id: string;
  /** The envelope it was run with (for the idempotency checks). */
  request: JsonObject;
  /** Its `status` as last answered. */
  status: unknown;
}

export const LABEL = 'globus-action-provider check';
export const NEEDS_TOKEN = 'needs a token (--token, GLOBUS_ACTION_PROVIDER_TOKEN or a dev-mode key)';
export const NO_ACTIONS_FAMILY = 'the provider serves no /actions routes (GET /actions answered 404)';
/** Polls of one action while waiting for it to complete, at most. */
export const MAX_POLLS = 10;
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 8_000;
/** Every status and role, as the Python toolkit's GET /actions takes them. */
export const LIST_QUERY = '?status=active,inactive,succeeded,failed&roles=creator_id,monitor_by,manage_by';

/** The method and path of `route` on action `id` in `family`. */
export const on = (family: Family, route: ActionRoute, id: string) => routeOf(family, route, encodeURIComponent(id));

/** Skip every route check of a family (its run is judged already). */
export function skipRoutes(ctx: CheckContext, family: Family, reason: string): void {
  for (const route of ACTION_ROUTES) ctx.skip(routeCheck('', family, route), reason);
}

/** `run` or `actions.run`: the action made, or undefined (and the family's route checks skipped). */
export async function checkRun(
  ctx: CheckContext,
  family: Family,
  description: JsonObject | undefined,
): Promise<Made | undefined> {
  const id = family === 'legacy' ? 'run' : 'actions.run';
  const cannot = (reason: string) => {
    ctx.skip(id, reason);
    skipRoutes(ctx, family, reason);
    return undefined;
  };
  if (!ctx.has.token) return cannot(NEEDS_TOKEN);
  if (!ctx.body.ok) return cannot(`no body to run with: ${ctx.body.reason}`);
  const request: JsonObject = { request_id: newRequestId(), body: ctx.body.body, label: LABEL };
  const sent = await ctx.send({ method: 'POST', path: family === 'legacy' ? '/run' : '/actions', json: request });
  const asked = requirementOf(sent);
  if (asked !== undefined) return cannot(askedFirst(asked));
  const { problems, seen } = actionStatusProblems(sent, [202, 200]);
  ctx.tookRun(sent, 'token');
  if (seen !== undefined && description?.['synchronous'] === true && !TERMINAL.has(seen.status))
    problems.push(`the description says synchronous: true, but the action is ${String(seen.status)}`);
  ctx.judge(id, problems, [sent.exchange]);
  if (seen === undefined) {
    skipRoutes(ctx, family, `no action to check: ${family === 'legacy' ? 'POST /run' : 'POST /actions'} failed`);
    return undefined;
  }
  return { family, id: seen.action_id, request, status: seen.status };
}

/** An ActionStatus of `made` with one of `statuses`, seen for the schema check; its problems. */
function sameAction(ctx: CheckContext, sent: Sent, made: Made, statuses: readonly number[]): string[] {
  const { problems, seen } = actionStatusProblems(sent, statuses);
  if (seen === undefined) return problems;
  ctx.sawStatus(sent, sent.answer?.json);
  if (seen.action_id !== made.id) problems.push(`it is the ActionStatus of ${seen.action_id}, not of ${made.id}`);
  else made.status = seen.status;
  return problems;
}

export async function checkStatusAndLog(
  ctx: CheckContext,
  made: Made,
  description: JsonObject | undefined,
): Promise<void> {
  const status = await ctx.send(on(made.family, 'status', made.id));
  const asked = requirementOf(status);
  if (asked !== undefined) ctx.skip(routeCheck('', made.family, 'status'), askedFirst(asked));
  else ctx.judge(routeCheck('', made.family, 'status'), sameAction(ctx, status, made, [200]), [status.exchange]);

  const logId = routeCheck('', made.family, 'log');
  if (description?.['log_supported'] !== true) {
    ctx.skip(logId, 'the description does not say log_supported: true');
    return;
  }
  const route = on(made.family, 'log', made.id);
  const log = await ctx.send({ ...route, path: `${route.path}?limit=10` });
  const problems = statusProblems(log, [200]);
  if (log.answer !== undefined && problems.length === 0)
    problems.push(...ctx.schemas.logPage(log.answer.json).map((problem) => `log page ${problem}`));
  ctx.judge(logId, problems, [log.exchange]);
}

/** `actions.list`: every status and role, holding the action made through /actions (or /run). */
export async function checkList(ctx: CheckContext, made: readonly Made[]): Promise<void> {
  if (!ctx.has.token) {
    ctx.skip('actions.list', NEEDS_TOKEN);
    return;
  }
  const sent = await ctx.send({ method: 'GET', path: `/actions${LIST_QUERY}` });
  const asked = requirementOf(sent);
  if (asked !== undefined) {
    ctx.skip('actions.list', askedFirst(asked));
    return;
  }
  const problems = statusProblems(sent, [200]);
  const json = sent.answer?.json;
  if (sent.answer !== undefined && problems.length === 0) {
    if (!Array.isArray(json)) problems.push('its body is no JSON array');
    else {
      for (const item of json) ctx.sawStatus(sent, item);
      const ids = new Set(json.map((item) => (isPlainObject(item) ? item['action_id'] : undefined)));
      const wanted = made.find((action) => action.family === 'actions') ?? made[0];
      if (wanted !== undefined && !ids.has(wanted.id)) problems.push(`the caller's action ${wanted.id} is not listed`);
    }
  }
  ctx.judge('actions.list', problems, [sent.exchange]);
}

/** `resume` and `cancel`: an ActionStatus of the action, or an error saying why not. */
export async function checkResumeAndCancel(ctx: CheckContext, made: Made): Promise<void> {
  const refusals: Record<'resume' | 'cancel', number[]> = { resume: [400, 409, 501], cancel: [400, 409] };
  for (const route of ['resume', 'cancel'] as const) {
    const sent = await ctx.send(on(made.family, route, made.id));
    const problems =
      sent.answer?.status === 200
        ? sameAction(ctx, sent, made, [200])
        : errorProblems(sent, [200, ...refusals[route]], ctx.schemas.error);
    ctx.judge(routeCheck('', made.family, route), problems, [sent.exchange]);
  }
}

/**
 * Poll the action's status until it completes, as Flows does (doubling from 250 ms, at most
 * 8 s apart), for `ctx.waitMs` and `polls` requests at most: `completed` once it is SUCCEEDED
 * or FAILED, `gone` when its status answers 404, else `running`.
 */
export async function waitForCompletion(
  ctx: CheckContext,
  made: Made,
  polls: number,
): Promise<'completed' | 'running' | 'gone'> {
  if (TERMINAL.has(made.status)) return 'completed';
  const deadline = ctx.clock() + ctx.waitMs;
  let delay = FIRST_POLL_MS;
  for (let poll = 0; poll < polls; poll++) {
    const left = deadline - ctx.clock();
    if (left <= 0) break;
    await ctx.sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_POLL_MS);
    const sent = await ctx.send(on(made.family, 'status', made.id));
    if (sent.answer?.status === 404) return 'gone';
    if (sent.answer?.status !== 200) break;
    ctx.sawStatus(sent, sent.answer.json);
    made.status = isPlainObject(sent.answer.json) ? sent.answer.json['status'] : undefined;
    if (TERMINAL.has(made.status)) return 'completed';
  }
  return 'running';
}

/** `release` / `actions.release`: the final ActionStatus, then 404 for the action's status. */
export async function checkRelease(ctx: CheckContext, made: Made): Promise<void> {
  const id = routeCheck('', made.family, 'release');
  const state = await waitForCompletion(ctx, made, MAX_POLLS);
  if (state === 'gone') {
    ctx.skip(id, 'the action was gone before its release (see isolation.release)');
    return;
  }
  if (state === 'running') {
    const waited = `at most ${MAX_POLLS} polls in ${ctx.waitMs / 1000} s, see --wait`;
    ctx.skip(id, `the action was still ${String(made.status)} when waited for (${waited}); it is left unreleased`);
    return;
  }
  const released = await ctx.send(on(made.family, 'release', made.id));
  const problems = sameAction(ctx, released, made, [200]);
  if (released.answer?.status !== 200) {
    ctx.judge(id, problems, [released.exchange]);
    return;
  }
  ctx.released(made.id, true);
  const after = await ctx.send(on(made.family, 'status', made.id));
  if (after.answer?.status === 200) {
    problems.push(
      `the action is still there: ${on(made.family, 'status', '{id}').path} answered 200 after its release`,
    );
    ctx.released(made.id, false);
  } else problems.push(...statusProblems(after, [404]).map((problem) => `after the release, status ${problem}`));
  ctx.judge(id, problems, [released.exchange, after.exchange]);
}
