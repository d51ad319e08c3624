/**
 * @module check/steps/introspection: `GET /`, the provider description Flows reads first,
 * against the ProviderDescription schema; the token is sent when there is one (a provider that
 * is not public needs it).
 */
import { isPlainObject, type JsonObject } from '../../model.ts';
import type { CheckContext } from '../context.ts';
import type { Sent } from '../exchange.ts';
import { isJsonType, statusProblems } from '../expect.ts';
import { ORIGIN } from './cors.ts';

export interface Introspected {
  /** The GET / exchange, for the CORS check. */
  sent: Sent;
  /** The description, when the answer held a JSON object. */
  description: JsonObject | undefined;
}

export async function checkIntrospection(ctx: CheckContext): Promise<Introspected> {
  // With an Origin, as a browser sends it: a provider may add CORS headers only then.
  const credential = ctx.has.token ? 'token' : 'none';
  const sent = await ctx.send({ method: 'GET', path: '/', credential, headers: { origin: ORIGIN } });
  const problems = statusProblems(sent, [200]);
  const answer = sent.answer;
  let description: JsonObject | undefined;
  if (answer !== undefined && problems.length === 0) {
    if (!isJsonType(answer.headers))
      problems.push(`its Content-Type is ${answer.headers.get('content-type') ?? 'missing'}, not application/json`);
    if (isPlainObject(answer.json)) description = answer.json;
    problems.push(...ctx.schemas.description(answer.json).map((problem) => `description ${problem}`));
  }
  ctx.judge('introspection', problems, [sent.exchange]);
  return { sent, description };
}
