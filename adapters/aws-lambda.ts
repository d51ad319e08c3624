/**
 * @module adapters/aws-lambda: a provider as an AWS Lambda handler, for API Gateway (REST APIs,
 * HTTP APIs in payload 1.0 and 2.0), Lambda Function URLs and Application Load Balancers. Each
 * invocation answers in its event's own result shape; the invocation ends with the answer.
 */
import { consoleLogger } from '../src/index.ts';
import { escapedError } from './answers.ts';
import type { FetchProvider, HealthOption } from './contract.ts';
import { served } from './health.ts';
import { readEvent } from './lambda-events.ts';
import { writeResult } from './lambda-result.ts';
import type {
  AlbEvent,
  AlbResult,
  ApiGatewayProxyEvent,
  ApiGatewayProxyEventV2,
  ApiGatewayProxyResult,
  ApiGatewayProxyResultV2,
  LambdaHttpEvent,
  LambdaHttpResult,
} from './lambda-types.ts';

export type { FetchProvider, HealthOption, HealthRoutes } from './contract.ts';
export type {
  AlbEvent,
  AlbResult,
  ApiGatewayProxyEvent,
  ApiGatewayProxyEventV2,
  ApiGatewayProxyResult,
  ApiGatewayProxyResultV2,
  ApiGatewayRequestContext,
  LambdaHttpEvent,
  LambdaHttpResult,
  LambdaListMap,
  LambdaStringMap,
} from './lambda-types.ts';

/** The part of Lambda's context object this adapter reads (so the package needs no Lambda types). */
export interface LambdaContext {
  /** Milliseconds until Lambda stops the invocation. */
  getRemainingTimeInMillis?(): number;
  awsRequestId?: string;
  functionName?: string;
  /** Not read or set: it governs callback handlers only (gone in the nodejs24.x runtime); this one is async. */
  callbackWaitsForEmptyEventLoop?: boolean;
}

/** What the provider's fetch receives as its `env` (the names `hono/aws-lambda` gives a Hono app). */
export interface LambdaEnv {
  event: LambdaHttpEvent;
  requestContext: unknown;
  lambdaContext: LambdaContext | undefined;
}

export interface LambdaOptions {
  /**
   * Serve under this path: the base path of a REST API's custom domain mapping (`path` keeps
   * it), or a path of your own. HTTP API mappings need none: `rawPath` never has the mapping key.
   */
  prefix?: string;
  /**
   * Drop a named stage from the front of an HTTP API's path (`/live/run` on stage `live` is
   * `/run`), where it is, so the routes match. REST APIs give the path without it anyway. Turn it
   * off for a stage named like a route (`actions`) behind a custom domain. Default true.
   */
  stripStage?: boolean;
  /** Liveness and readiness routes, outside the prefix (see `HealthOption`): for an ALB's health check. */
  health?: HealthOption;
}

/** The handler, typed per event: each source gets its own result shape. */
export interface LambdaHttpHandler {
  (event: ApiGatewayProxyEventV2, context?: LambdaContext): Promise<ApiGatewayProxyResultV2>;
  (event: AlbEvent, context?: LambdaContext): Promise<AlbResult>;
  (event: ApiGatewayProxyEvent, context?: LambdaContext): Promise<ApiGatewayProxyResult>;
  (event: LambdaHttpEvent, context?: LambdaContext): Promise<LambdaHttpResult>;
}

/**
 * How long before Lambda's deadline the request's `signal` aborts: long enough for a callback
 * that stops on it to let the provider answer, and a store write, before the instance is stopped.
 */
export const DEADLINE_MARGIN_MS = 500;

const BACKGROUND_WARNING =
  'waitUntil on AWS Lambda: the instance is frozen once the answer is sent, so this work pauses ' +
  'and may never finish; give background work a queue or a scheduled function instead';

/**
 * The request's signal: aborted `DEADLINE_MARGIN_MS` before the invocation times out (Lambda
 * cannot tell when a client goes away, but it can tell when the answer would be lost).
 */
function deadline(context: LambdaContext | undefined): { signal: AbortSignal | undefined; clear(): void } {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function' ? Number(context.getRemainingTimeInMillis()) : Number.NaN;
  if (!Number.isFinite(remaining)) return { signal: undefined, clear: () => {} };
  const controller = new AbortController();
  const abort = () => controller.abort(new DOMException('The Lambda invocation is about to time out', 'TimeoutError'));
  const timer = setTimeout(abort, Math.max(0, remaining - DEADLINE_MARGIN_MS));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * The handler to export from your function's module. A malformed HTTP event gets the JSON 400
 * in its own shape; an event that is no HTTP request (S3, SQS, a schedule) rejects with a
 * TypeError, so the invocation fails visibly instead of succeeding unread.
 *
 * Nothing runs after the answer: Lambda freezes the instance once the handler resolves, so
 * `waitUntil` work pauses (and may never resume) and the handler does not wait for it; the first
 * call of each instance logs a warning. Give such work a queue or a scheduled function.
 *
 * @example
 * ```ts
 * const provider = echoProvider({ auth: globusAuth({...}), store: await postgresStore({ url: process.env.DATABASE_URL }) })
 * export const handler = lambdaHandler(provider)
 * ```
 */
export function lambdaHandler(provider: FetchProvider, options: LambdaOptions = {}): LambdaHttpHandler {
  if (typeof provider?.fetch !== 'function') throw new TypeError('lambdaHandler: provider must have a fetch method');
  if (typeof options !== 'object' || options === null) throw new TypeError('lambdaHandler: options must be an object');
  const { stripStage = true } = options;
  if (typeof stripStage !== 'boolean') throw new TypeError('lambdaHandler: stripStage must be a boolean');
  const fetch = served(provider, options);
  // Per handler, so each instance warns once; the promise itself already runs (and routes.ts logs its failure).
  let warned = false;
  const executionContext = {
    waitUntil: (_promise: Promise<unknown>) => {
      if (!warned) consoleLogger('warn').warn(BACKGROUND_WARNING);
      warned = true;
    },
    passThroughOnException: () => {},
  };
  const handle = async (event: LambdaHttpEvent, context?: LambdaContext): Promise<LambdaHttpResult> => {
    const timer = deadline(context);
    try {
      const read = readEvent(event, { stripStage, signal: timer.signal });
      let response: Response;
      if ('refusal' in read) response = read.refusal;
      else {
        const env: LambdaEnv = { event, requestContext: event.requestContext, lambdaContext: context };
        try {
          response = await fetch(read.request, env, executionContext);
        } catch (error) {
          response = escapedError(error);
        }
      }
      try {
        return await writeResult(response, read.reply);
      } catch (error) {
        return await writeResult(escapedError(error), read.reply); // a body stream that failed mid-way
      }
    } finally {
      timer.clear(); // no timer left to fire into the next invocation of a thawed instance
    }
  };
  return handle as LambdaHttpHandler;
}
