/**
 * @module check/steps/cleanup: release every action the checks made and did not release
 * themselves (a provider that took a request it should have refused made some), through the
 * legacy routes with the checker's own token; one still running is cancelled and waited for.
 * Nothing else is touched.
 */
import { isAddressable } from '../../client/request.ts';
import { isPlainObject } from '../../model.ts';
import type { CheckContext } from '../context.ts';
import { type Made, on, waitForCompletion } from './actions.ts';

/** Polls of one action in the cleanup, at most (fewer than a check's: it was waited for already, or is a stray). */
export const CLEANUP_POLLS = 5;

export async function cleanUp(ctx: CheckContext): Promise<void> {
  for (const action of ctx.actions.values()) {
    // An id such as `..` addresses another route: nothing is sent, and it is listed as not released.
    if (action.state !== 'open' || !isAddressable(action.id)) continue;
    const made: Made = { family: 'legacy', id: action.id, request: {}, status: undefined };
    const release = () => ctx.send(on('legacy', 'release', action.id));
    let answer = (await release()).answer;
    if (answer !== undefined && answer.status !== 200 && answer.status !== 404) {
      // Still running (409, or 400 by some providers): cancel, wait, and try once more.
      const cancelled = (await ctx.send(on('legacy', 'cancel', action.id))).answer;
      if (cancelled?.status === 200 && isPlainObject(cancelled.json)) made.status = cancelled.json['status'];
      if ((await waitForCompletion(ctx, made, CLEANUP_POLLS)) === 'completed') answer = (await release()).answer;
    }
    // A 404 to its creator: gone already (released by another identity, or expired).
    if (answer?.status === 200 || (answer?.status === 404 && action.by === 'token')) ctx.released(action.id, true);
  }
}
