/**
 * @module check/steps/cors: the browser's view (the Globus web app): the description readable
 * across origins, and CORS preflights answered without a token, judged as the Fetch standard's
 * CORS-preflight fetch judges them.
 */
import type { CheckContext } from '../context.ts';
import type { Sent } from '../exchange.ts';
import { statusProblems } from '../expect.ts';

/** An origin the preflights come from. */
export const ORIGIN = 'https://app.globus.org';
/** Methods and request headers a preflight need not list (the Fetch standard's safelists). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'POST']);

const list = (value: string | null): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** What a browser would refuse in this preflight answer for `method` with `headers`. */
export function preflightProblems(sent: Sent, method: string, headers: readonly string[]): string[] {
  const { answer } = sent;
  if (answer === undefined) return [`no answer: ${sent.exchange.error ?? 'unknown error'}`];
  if (answer.status < 200 || answer.status > 299) return statusProblems(sent, [200, 204]);
  const problems: string[] = [];
  const origin = answer.headers.get('access-control-allow-origin');
  if (origin !== '*' && origin !== ORIGIN) problems.push(`Access-Control-Allow-Origin is ${origin ?? 'missing'}`);
  const methods = list(answer.headers.get('access-control-allow-methods'));
  if (!SAFE_METHODS.has(method) && !methods.includes('*') && !methods.some((m) => m.toUpperCase() === method))
    problems.push(`Access-Control-Allow-Methods (${methods.join(', ') || 'missing'}) does not allow ${method}`);
  const allowed = list(answer.headers.get('access-control-allow-headers')).map((h) => h.toLowerCase());
  for (const header of headers) {
    // "*" covers every request header but Authorization (Fetch standard, CORS-preflight fetch).
    const covered = allowed.includes(header) || (allowed.includes('*') && header !== 'authorization');
    if (!covered)
      problems.push(`Access-Control-Allow-Headers (${allowed.join(', ') || 'missing'}) does not allow ${header}`);
  }
  return problems;
}

const preflight = (ctx: CheckContext, path: string, method: string, headers: readonly string[]) =>
  ctx.send({
    method: 'OPTIONS',
    path,
    credential: 'none',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': method,
      ...(headers.length === 0 ? {} : { 'access-control-request-headers': headers.join(', ') }),
    },
  });

/** `cors.introspection` (from the GET / already made), `cors.run`, `cors.status`. */
export async function checkCors(ctx: CheckContext, introspection: Sent): Promise<void> {
  const options = await preflight(ctx, '/', 'GET', []);
  const problems = preflightProblems(options, 'GET', []);
  const origin = introspection.answer?.headers.get('access-control-allow-origin');
  if (introspection.answer !== undefined && origin !== '*' && origin !== ORIGIN)
    problems.push(`GET / carries Access-Control-Allow-Origin ${origin ?? '(none)'}`);
  ctx.judge('cors.introspection', problems, [options.exchange, introspection.exchange]);

  const run = await preflight(ctx, '/run', 'POST', ['authorization', 'content-type']);
  ctx.judge('cors.run', preflightProblems(run, 'POST', ['authorization', 'content-type']), [run.exchange]);
  const status = await preflight(ctx, `/${crypto.randomUUID()}/status`, 'GET', ['authorization']);
  ctx.judge('cors.status', preflightProblems(status, 'GET', ['authorization']), [status.exchange]);
}
