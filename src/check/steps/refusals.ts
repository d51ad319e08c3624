/**
 * @module check/steps/refusals: requests a provider must refuse, each with the status the spec
 * or Globus clients expect and a JSON error: unknown paths, wrong methods, missing and invalid
 * tokens, bad envelopes and bad input. A provider that takes one anyway has made an action,
 * which is kept for the cleanup.
 */
import type { JsonObject } from '../../model.ts';
import type { CheckContext } from '../context.ts';
import type { Credential, SendInput } from '../exchange.ts';
import { errorProblems } from '../expect.ts';
import { type Made, NEEDS_TOKEN, NO_ACTIONS_FAMILY, on } from './actions.ts';
import { newRequestId } from './ids.ts';

const REFUSED = [400, 422] as const;

/** Send a request the provider must refuse with one of `statuses`, and judge the answer. */
async function refused(
  ctx: CheckContext,
  id: string,
  input: SendInput,
  statuses: readonly number[],
  extra?: (headers: Headers) => string[],
): Promise<void> {
  const sent = await ctx.send(input);
  const problems = errorProblems(sent, statuses, ctx.schemas.error);
  if (sent.answer !== undefined && extra !== undefined) problems.push(...extra(sent.answer.headers));
  if (input.method === 'POST' && (input.path === '/run' || input.path === '/actions'))
    if (ctx.tookRun(sent, input.credential ?? 'token') !== undefined)
      problems.push('the provider started an action for it');
  ctx.judge(id, problems, [sent.exchange]);
}

const allowHeader = (headers: Headers): string[] =>
  headers.get('allow') === null ? ['it carries no Allow header (RFC 9110 requires one with a 405)'] : [];

export async function checkRefusals(ctx: CheckContext, actionsServed: boolean): Promise<void> {
  const credential: Credential = ctx.has.token ? 'token' : 'none';
  const unknown = crypto.randomUUID();
  await refused(
    ctx,
    'routing.unknown-path',
    { method: 'GET', path: '/globus-action-provider-check/no/such-route', credential },
    [404],
  );
  await refused(ctx, 'routing.method.run', { method: 'GET', path: '/run', credential }, [405], allowHeader);
  await refused(
    ctx,
    'routing.method.status',
    { method: 'DELETE', path: `/${unknown}/status`, credential },
    [405],
    allowHeader,
  );
  if (actionsServed)
    await refused(
      ctx,
      'routing.method.actions',
      { method: 'PUT', path: `/actions/${unknown}`, credential, json: {} },
      [405],
      allowHeader,
    );
  else ctx.skip('routing.method.actions', NO_ACTIONS_FAMILY);

  const body: JsonObject = ctx.body.ok ? ctx.body.body : {};
  const envelope = (extra: JsonObject = {}): JsonObject => ({ request_id: newRequestId(), body, ...extra });
  const run = (json: unknown, as: Credential = 'token'): SendInput => ({
    method: 'POST',
    path: '/run',
    credential: as,
    json,
  });
  await refused(ctx, 'auth.run.missing', run(envelope(), 'none'), [401]);
  await refused(ctx, 'auth.run.invalid', run(envelope(), 'invalid'), [401]);

  if (!ctx.has.token) {
    for (const id of ENVELOPE_CHECKS) ctx.skip(id, NEEDS_TOKEN);
    return;
  }
  await refused(
    ctx,
    'envelope.invalid-json',
    { method: 'POST', path: '/run', text: `{"request_id": "${newRequestId()}", "body": {` },
    REFUSED,
  );
  await refused(ctx, 'envelope.not-object', run([]), REFUSED);
  await refused(ctx, 'envelope.no-request-id', run({ body }), REFUSED);
  await refused(ctx, 'envelope.no-body', run({ request_id: newRequestId() }), REFUSED);
  await refused(ctx, 'envelope.body-not-object', run({ request_id: newRequestId(), body: 'text' }), REFUSED);
  // These three must fail on the envelope alone: they need a body the provider takes.
  const withBody: [string, JsonObject][] = [
    ['envelope.principal', { monitor_by: ['urn:globus:auth:identity:not-a-uuid'] }],
    ['envelope.label', { label: 'x'.repeat(65) }],
    ['envelope.release-after', { release_after: 'thirty days' }],
  ];
  for (const [id, extra] of withBody) {
    if (ctx.body.ok) await refused(ctx, id, run(envelope(extra)), REFUSED);
    else ctx.skip(id, `no body to run with: ${ctx.body.reason}`);
  }
  if (ctx.invalidBody.ok) await refused(ctx, 'input.invalid', run(envelope({ body: ctx.invalidBody.body })), REFUSED);
  else ctx.skip('input.invalid', `no body the provider must refuse: ${ctx.invalidBody.reason}`);
}

/** `auth.status.*`: an existing action's status without a token, and with an invalid one. */
export async function checkStatusRefusals(ctx: CheckContext, made: Made | undefined): Promise<void> {
  for (const [id, credential] of [
    ['auth.status.missing', 'none'],
    ['auth.status.invalid', 'invalid'],
  ] as const) {
    if (made === undefined) ctx.skip(id, 'no action to check: POST /run did not make one');
    else await refused(ctx, id, { ...on('legacy', 'status', made.id), credential }, [401]);
  }
}

const ENVELOPE_CHECKS = [
  'envelope.invalid-json',
  'envelope.not-object',
  'envelope.no-request-id',
  'envelope.no-body',
  'envelope.body-not-object',
  'envelope.principal',
  'envelope.label',
  'envelope.release-after',
  'input.invalid',
];
