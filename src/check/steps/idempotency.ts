/**
 * @module check/steps/idempotency: the same ActionRequest again answers the same action (Flows
 * may send a /run again when an answer was lost), and the same request_id with a different
 * request is refused with 409.
 */
import type { CheckContext } from '../context.ts';
import { actionStatusProblems, errorProblems } from '../expect.ts';
import { LABEL, type Made } from './actions.ts';

export async function checkIdempotency(ctx: CheckContext, made: Made | undefined): Promise<void> {
  if (made === undefined) {
    ctx.skip('idempotency.same', 'no action to check: POST /run did not make one');
    ctx.skip('idempotency.conflict', 'no action to check: POST /run did not make one');
    return;
  }
  const same = await ctx.send({ method: 'POST', path: '/run', json: made.request });
  const { problems, seen } = actionStatusProblems(same, [200, 202]);
  const again = ctx.tookRun(same, 'token');
  if (seen !== undefined && again !== made.id)
    problems.push(`it made a new action (${seen.action_id}) instead of answering ${made.id}`);
  ctx.judge('idempotency.same', problems, [same.exchange]);

  const changed = { ...made.request, label: `${LABEL} (changed)` };
  const conflict = await ctx.send({ method: 'POST', path: '/run', json: changed });
  const refused = errorProblems(conflict, [409], ctx.schemas.error);
  const other = ctx.tookRun(conflict, 'token');
  if (other !== undefined && other !== made.id) refused.push(`it made a new action (${other})`);
  ctx.judge('idempotency.conflict', refused, [conflict.exchange]);
}
