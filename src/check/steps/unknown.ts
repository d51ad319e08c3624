/**
 * @module check/steps/unknown: every route on an action id no provider knows (a fresh UUID, a
 * well-formed id for any provider) answers 404 with a JSON error, as the spec's 404s describe.
 */
import { ACTION_ROUTES, type Family, routeCheck } from '../catalog.ts';
import type { CheckContext } from '../context.ts';
import { errorProblems } from '../expect.ts';
import { NEEDS_TOKEN, NO_ACTIONS_FAMILY, on } from './actions.ts';

export async function checkUnknown(ctx: CheckContext, actionsServed: boolean, logSupported: boolean): Promise<void> {
  for (const family of ['legacy', 'actions'] as const satisfies Family[]) {
    const id = crypto.randomUUID();
    for (const route of ACTION_ROUTES) {
      const check = routeCheck('unknown', family, route);
      if (family === 'actions' && !actionsServed) ctx.skip(check, NO_ACTIONS_FAMILY);
      else if (!ctx.has.token) ctx.skip(check, NEEDS_TOKEN);
      else {
        // A provider without resume, or without log, may say so before it looks the id up.
        const unsupported = route === 'resume' || (route === 'log' && !logSupported) ? [501] : [];
        const sent = await ctx.send(on(family, route, id));
        ctx.judge(check, errorProblems(sent, [404, ...unsupported], ctx.schemas.error), [sent.exchange]);
      }
    }
  }
}
