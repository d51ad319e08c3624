/**
 * @module check/check-provider: `checkProvider()`, the conformance checker: it holds any Action
 * Provider at a URL (ours, the Python toolkit's, one written by hand) to the interface spec and
 * to what Globus clients rely on, in a bounded number of requests, and releases every action it
 * made. Web-standard only (fetch, Request, AbortSignal.timeout, crypto.randomUUID): it runs on
 * any runtime, and its fetch, clock and sleep can be injected.
 */
import { isPlainObject, type JsonObject } from '../model.ts';
import { deriveBody, deriveInvalidBody } from './body.ts';
import { type CheckContext, createContext } from './context.ts';
import { createExchange } from './exchange.ts';
import {
  checkList,
  checkRelease,
  checkResumeAndCancel,
  checkRun,
  checkStatusAndLog,
  MAX_POLLS,
  type Made,
  NO_ACTIONS_FAMILY,
  skipRoutes,
} from './steps/actions.ts';
import { CLEANUP_POLLS, cleanUp } from './steps/cleanup.ts';
import { checkCors } from './steps/cors.ts';
import { checkIdempotency } from './steps/idempotency.ts';
import { checkIntrospection } from './steps/introspection.ts';
import { checkIsolation } from './steps/isolation.ts';
import { checkRefusals, checkStatusRefusals } from './steps/refusals.ts';
import { checkUnknown } from './steps/unknown.ts';
import type { CheckProgress, CheckReport } from './types.ts';

export interface CheckOptions {
  /** The provider's base URL (`http:` or `https:`), as registered with Flows. */
  url: string;
  /** A token for the provider's scope; without it only the checks that need none are made. */
  token?: string;
  /** A token of another identity, for the isolation checks. */
  otherToken?: string;
  /** The `body` to run with. Default: one made from the provider's `input_schema`, when that is simple. */
  body?: JsonObject;
  /** Default the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Default a timer; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch (default `Date.now`): how long the run waits for an action. */
  clock?: () => number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** How long to wait for an action to complete before releasing it. Default 30 s. */
  waitMs?: number;
  /** Told after each check is decided. */
  onProgress?: (progress: CheckProgress) => void;
}

/** What the checks send themselves: 20 without an action, 33 per route family (10 polls included), 6 more. */
const CHECK_REQUESTS = 20 + 2 * (23 + MAX_POLLS) + 6;
/** Requests that can make an action: two runs, and 13 that a provider should refuse but might take. */
const RUN_REQUESTS = 15;
/**
 * The most requests one run sends: the checks', and for each action the cleanup has to release a
 * release, a cancel, its polls and a second release. A provider that completes its actions at once
 * and refuses what it should gets about 75.
 */
export const REQUEST_BOUND: number = CHECK_REQUESTS + RUN_REQUESTS * (3 + CLEANUP_POLLS);

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_WAIT_MS = 30_000;

function fail(message: string): never {
  throw new TypeError(`checkProvider: ${message}`);
}

const isToken = (value: unknown): value is string => typeof value === 'string' && /^\S+$/.test(value);

/** The options, checked; a TypeError names the one that is wrong. */
function resolve(options: CheckOptions) {
  if (!isPlainObject(options)) fail('options must be an object');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    fail('url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('url must be an http or https URL');
  if (url.search !== '' || url.hash !== '') fail('url must have no query or fragment');
  if (url.username !== '' || url.password !== '') fail('url must carry no credentials');
  if (options.token !== undefined && !isToken(options.token)) fail('token must be a non-empty string without spaces');
  if (options.otherToken !== undefined && !isToken(options.otherToken))
    fail('otherToken must be a non-empty string without spaces');
  if (options.otherToken !== undefined && options.otherToken === options.token)
    fail("otherToken must be another identity's token, not token again");
  if (options.body !== undefined && !isPlainObject(options.body)) fail('body must be a JSON object');
  for (const name of ['fetch', 'sleep', 'clock', 'onProgress'] as const)
    if (options[name] !== undefined && typeof options[name] !== 'function') fail(`${name} must be a function`);
  const positive = (name: 'timeoutMs' | 'waitMs', value: number | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
      fail(`${name} must be a number of milliseconds, at least ${min}`);
    return value;
  };
  return {
    base: url.href.replace(/\/+$/, ''),
    fetch: options.fetch ?? ((request: Request) => fetch(request)),
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms))),
    clock: options.clock ?? Date.now,
    timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    waitMs: positive('waitMs', options.waitMs, DEFAULT_WAIT_MS, 0),
  };
}

/**
 * Check the provider at `options.url`; resolves to the report (it rejects only for a bug of its
 * own: what the provider answers, or not, is in the report). Options are checked at once: a
 * TypeError names the wrong one.
 *
 * @example
 * ```ts
 * const report = await checkProvider({ url: 'https://actions.example.org/echo', token, otherToken })
 * if (!report.ok) for (const check of report.checks) if (check.outcome === 'fail') console.log(check.id, check.reason)
 * ```
 */
export function checkProvider(options: CheckOptions): Promise<CheckReport> {
  const config = resolve(options);
  return run(options, config);
}

async function run(options: CheckOptions, config: ReturnType<typeof resolve>): Promise<CheckReport> {
  const exchange = createExchange({
    base: config.base,
    fetch: config.fetch,
    token: options.token,
    otherToken: options.otherToken,
    timeoutMs: config.timeoutMs,
    bound: REQUEST_BOUND,
  });
  const unread = { ok: false as const, reason: 'the provider description could not be read' };
  const ctx = createContext({
    send: exchange.send,
    redact: exchange.redact,
    has: { token: options.token !== undefined, other: options.otherToken !== undefined },
    body: unread,
    invalidBody: unread,
    sleep: config.sleep,
    clock: config.clock,
    waitMs: config.waitMs,
    onProgress: options.onProgress,
  });

  const { sent, description } = await checkIntrospection(ctx);
  // No description, no provider: nothing more is sent to whatever answered.
  if (sent.answer?.status !== 200 || description === undefined) {
    const why = sent.answer === undefined ? 'GET / got no answer' : 'GET / answered no provider description';
    return report(config.base, ctx, exchange.count(), description, `not run: ${why}`);
  }
  if (options.body !== undefined) ctx.body = { ok: true, body: options.body };
  else ctx.body = deriveBody(description['input_schema']);
  if (ctx.body.ok) ctx.invalidBody = deriveInvalidBody(description['input_schema'], ctx.body.body);
  await checkCors(ctx, sent);

  // Whatever goes wrong in the checks (a bug of ours: the provider's doings are in the report),
  // the actions made so far are still released.
  let failure: unknown;
  try {
    await checkActions(ctx, description);
  } catch (error) {
    failure = error;
  }
  await cleanUp(ctx).catch((error: unknown) => {
    failure ??= error;
  });
  if (failure !== undefined) throw failure;
  return report(config.base, ctx, exchange.count(), description, 'not run');
}

/** Every check after the description and CORS, in an order that keeps each action until its release. */
async function checkActions(ctx: CheckContext, description: JsonObject): Promise<void> {
  const probe = await ctx.send({ method: 'GET', path: '/actions', credential: ctx.has.token ? 'token' : 'none' });
  const actionsServed = probe.answer !== undefined && probe.answer.status !== 404;
  await checkRefusals(ctx, actionsServed);

  const legacy = await checkRun(ctx, 'legacy', description);
  let actions: Made | undefined;
  if (actionsServed) actions = await checkRun(ctx, 'actions', description);
  else {
    ctx.skip('actions.run', NO_ACTIONS_FAMILY);
    skipRoutes(ctx, 'actions', NO_ACTIONS_FAMILY);
  }
  const made = { ...(legacy && { legacy }), ...(actions && { actions }) };
  const mine = Object.values(made);
  for (const action of mine) await checkStatusAndLog(ctx, action, description);
  if (actionsServed) await checkList(ctx, mine);
  else ctx.skip('actions.list', NO_ACTIONS_FAMILY);

  await checkUnknown(ctx, actionsServed, description['log_supported'] === true);
  await checkStatusRefusals(ctx, made.legacy);
  await checkIsolation(ctx, made, actionsServed);
  await checkIdempotency(ctx, made.legacy);
  for (const action of mine) await checkResumeAndCancel(ctx, action);
  for (const action of mine) await checkRelease(ctx, action);
}

function report(
  url: string,
  ctx: ReturnType<typeof createContext>,
  requests: number,
  description: JsonObject | undefined,
  undecided: string,
): CheckReport {
  const checks = ctx.results(undecided);
  const count = (outcome: string) => checks.filter((check) => check.outcome === outcome).length;
  const actions = [...ctx.actions.values()];
  const title = description?.['title'];
  const scope = description?.['globus_auth_scope'];
  const failed = count('fail');
  return {
    url,
    ...(description === undefined
      ? {}
      : {
          provider: {
            ...(typeof title === 'string' ? { title } : {}),
            ...(typeof scope === 'string' ? { scope } : {}),
          },
        }),
    checks,
    summary: {
      passed: count('pass'),
      failed,
      notApplicable: count('not-applicable'),
      requests,
      requestBound: REQUEST_BOUND,
    },
    actions: {
      created: actions.map((action) => action.id),
      released: actions.filter((action) => action.state === 'released').map((action) => action.id),
      remaining: actions.filter((action) => action.state !== 'released').map((action) => action.id),
    },
    ok: failed === 0,
  };
}
