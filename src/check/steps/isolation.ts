/**
 * @module check/steps/isolation: a second identity tries every route on the first one's actions
 * and must get exactly the answer it gets for an unknown id (status, and body with the ids
 * taken out), so it can neither see nor manage them, nor learn that they exist; then the actions
 * must be unchanged for their creator, and missing from the other identity's list.
 */
import { isPlainObject } from '../../model.ts';
import { ACTION_ROUTES, type ActionRoute, type Family, routeCheck } from '../catalog.ts';
import type { CheckContext } from '../context.ts';
import type { Sent } from '../exchange.ts';
import { bodyGist, statusProblems } from '../expect.ts';
import { LIST_QUERY, type Made, NO_ACTIONS_FAMILY, on } from './actions.ts';

const NEEDS_OTHER = "needs a second identity's token (--other-token, or a dev-mode key to mint one)";
/** The routes in the order tried: release last, since a provider that allows it loses the action. */
const ORDER: readonly ActionRoute[] = ['status', 'log', 'resume', 'cancel', 'release'];

const withoutId = (text: string, id: string): string =>
  text.replaceAll(id, '{id}').replaceAll(encodeURIComponent(id), '{id}');

/** What differs between the answer on the action and the answer on an unknown id. */
function leaks(attempt: Sent, baseline: Sent, actionId: string, unknownId: string, route: ActionRoute): string[] {
  const a = attempt.answer;
  const b = baseline.answer;
  if (a === undefined) return [`no answer: ${attempt.exchange.error ?? 'unknown error'}`];
  if (a.status >= 200 && a.status <= 299) {
    const right = route === 'status' || route === 'log' ? 'see' : 'manage';
    return [`the other identity was answered ${a.status}: it can ${right} the action`];
  }
  if (b === undefined) return [`no answer for an unknown id: ${baseline.exchange.error ?? 'unknown error'}`];
  if (a.status !== b.status)
    return [`answered ${a.status} (${bodyGist(a)}), but ${b.status} (${bodyGist(b)}) for an unknown id`];
  const problems: string[] = [];
  if ((a.headers.get('content-type') ?? '') !== (b.headers.get('content-type') ?? ''))
    problems.push('its Content-Type differs from the answer for an unknown id');
  if (withoutId(a.text, actionId) !== withoutId(b.text, unknownId))
    problems.push(`its body (${bodyGist(a)}) differs from the one for an unknown id (${bodyGist(b)})`);
  return problems;
}

export async function checkIsolation(
  ctx: CheckContext,
  made: Partial<Record<Family, Made>>,
  actionsServed: boolean,
): Promise<void> {
  const families = ['legacy', 'actions'] as const satisfies Family[];
  const skipAll = (family: Family, reason: string) => {
    for (const route of ACTION_ROUTES) ctx.skip(routeCheck('isolation', family, route), reason);
  };
  if (!ctx.has.other) {
    for (const family of families) skipAll(family, NEEDS_OTHER);
    ctx.skip('isolation.intact', NEEDS_OTHER);
    ctx.skip('isolation.list', NEEDS_OTHER);
    return;
  }
  const before = new Map<string, unknown>();
  for (const family of families) {
    const action = made[family];
    if (family === 'actions' && !actionsServed) skipAll(family, NO_ACTIONS_FAMILY);
    else if (action === undefined) skipAll(family, 'no action to try: the run did not make one');
    else {
      before.set(action.id, action.status);
      for (const route of ORDER) {
        const unknownId = crypto.randomUUID();
        const baseline = await ctx.send({ ...on(family, route, unknownId), credential: 'other' });
        const attempt = await ctx.send({ ...on(family, route, action.id), credential: 'other' });
        ctx.judge(routeCheck('isolation', family, route), leaks(attempt, baseline, action.id, unknownId, route), [
          attempt.exchange,
          baseline.exchange,
        ]);
      }
    }
  }
  await checkIntact(ctx, made, before);
  await checkOthersList(ctx, [...before.keys()], actionsServed);
}

async function checkIntact(
  ctx: CheckContext,
  made: Partial<Record<Family, Made>>,
  before: ReadonlyMap<string, unknown>,
): Promise<void> {
  if (before.size === 0) {
    ctx.skip('isolation.intact', 'no action was tried');
    return;
  }
  const problems: string[] = [];
  const exchanges = [];
  for (const action of Object.values(made)) {
    if (action === undefined || !before.has(action.id)) continue;
    const sent = await ctx.send(on(action.family, 'status', action.id));
    exchanges.push(sent.exchange);
    const json = sent.answer?.json;
    if (sent.answer?.status === 404) problems.push(`${action.id} is gone: the other identity could release it`);
    else if (statusProblems(sent, [200]).length > 0) problems.push(...statusProblems(sent, [200]));
    else {
      ctx.sawStatus(sent, json);
      const now = isPlainObject(json) ? json['status'] : undefined;
      if (now !== before.get(action.id))
        problems.push(`${action.id} was ${String(before.get(action.id))} and is now ${String(now)}`);
      action.status = now;
    }
  }
  ctx.judge('isolation.intact', problems, exchanges);
}

async function checkOthersList(ctx: CheckContext, ids: readonly string[], actionsServed: boolean): Promise<void> {
  if (!actionsServed) {
    ctx.skip('isolation.list', NO_ACTIONS_FAMILY);
    return;
  }
  if (ids.length === 0) {
    ctx.skip('isolation.list', 'no action was tried');
    return;
  }
  const sent = await ctx.send({ method: 'GET', path: `/actions${LIST_QUERY}`, credential: 'other' });
  const answer = sent.answer;
  const problems: string[] = [];
  if (answer === undefined) problems.push(`no answer: ${sent.exchange.error ?? 'unknown error'}`);
  else if (answer.status >= 500) problems.push(`answered ${answer.status} (${bodyGist(answer)})`);
  else if (answer.status >= 200 && answer.status <= 299) {
    // A 4xx (not allowed to list) shows nothing either.
    const listed = Array.isArray(answer.json)
      ? answer.json.map((item) => (isPlainObject(item) ? item['action_id'] : undefined))
      : [];
    const seen = ids.filter((id) => listed.includes(id));
    if (seen.length > 0) problems.push(`it lists the creator's ${seen.join(', ')}`);
  }
  ctx.judge('isolation.list', problems, [sent.exchange]);
}
