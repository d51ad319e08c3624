/**
 * @module observe/request-observer: what happens around every request the provider answers:
 * its id (answered in `X-Request-Id`), its span when there is telemetry, the lifecycle hooks,
 * one log line at info and, for an error answer, the error mapped to its response. Built once
 * per app; with no hooks, no telemetry and info lines off, a request pays for its id only.
 */
import { isActionError } from '../http/errors.ts';
import { JSON_HEADERS } from '../http/response.ts';
import type { LogFields, Logger } from '../logger.ts';
import type { ErrorInfo, HookResult, RequestHooks, ResponseInfo } from './hooks.ts';
import { hookHeaders } from './hooks.ts';
import { REQUEST_ID_HEADER, requestIdOf, requestIds } from './request-id.ts';
import type { RequestTelemetry, Telemetry } from './telemetry.ts';

/**
 * One request as the provider knows it so far. Operations fill in what they learn
 * (`identity` once authenticated, `actionId` once a run stored its action).
 */
export class RequestScope {
  readonly requestId: string;
  readonly route: string | undefined;
  readonly operation: string | undefined;
  actionId: string | undefined;
  identity: string | undefined = undefined;
  /** True once an answer was built with `headers()`: it carries the id already. */
  stamped = false;
  #json: Readonly<Record<string, string>> | undefined;

  constructor(
    requestId: string,
    route: string | undefined,
    operation: string | undefined,
    actionId: string | undefined,
  ) {
    this.requestId = requestId;
    this.route = route;
    this.operation = operation;
    this.actionId = actionId;
  }

  /** The headers of an answer to this request: JSON_HEADERS, `extra`, and the request id. */
  headers(extra?: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    this.stamped = true;
    if (extra === undefined) {
      this.#json ??= { ...JSON_HEADERS, [REQUEST_ID_HEADER]: this.requestId };
      return this.#json;
    }
    return { ...JSON_HEADERS, ...extra, [REQUEST_ID_HEADER]: this.requestId };
  }
}

/** Turns what an operation threw into its answer, logging what deserves it (with the request's id). */
export type ErrorAnswer = (error: unknown, scope: RequestScope | undefined) => Response;

export interface ObserverSettings {
  logger: Logger;
  /** Whether info lines (one per request) are written. */
  info: boolean;
  hooks: RequestHooks | undefined;
  telemetry: Telemetry | undefined;
  errorAnswer: ErrorAnswer;
  /** Logs a hook's failure (rate-limited). */
  hookFailed: (hook: string, error: unknown, scope: RequestScope) => void;
}

/** Handles one request, given what the route knows. */
export type Observed = (
  request: Request,
  route: string | undefined,
  operation: string | undefined,
  actionId: string | undefined,
  handle: (scope: RequestScope) => Response | Promise<Response>,
) => Promise<Response>;

export function requestObserver(settings: ObserverSettings): Observed {
  const { logger, info, hooks, telemetry, errorAnswer, hookFailed } = settings;
  const nextId = requestIds();
  const watched = info || hooks !== undefined || telemetry !== undefined;

  if (!watched) {
    // The common case: the id, the answer and its header, nothing else.
    return async (request, route, operation, actionId, handle) => {
      const scope = new RequestScope(requestIdOf(request.headers, undefined, nextId), route, operation, actionId);
      let response: Response;
      try {
        response = await handle(scope);
      } catch (error) {
        response = errorAnswer(error, scope);
      }
      return scope.stamped ? response : withHeaders(response, scope.requestId, undefined);
    };
  }

  const callHook = async <I>(name: 'onRequest' | 'onResponse' | 'onError', payload: I, scope: RequestScope) => {
    const hook = hooks?.[name] as ((info: I) => unknown) | undefined;
    if (hook === undefined) return undefined;
    try {
      return hookHeaders(await hook(payload));
    } catch (error) {
      hookFailed(name, error, scope);
      return undefined;
    }
  };

  return async (request, route, operation, actionId, handle) => {
    const started = performance.now();
    const span: RequestTelemetry | undefined = telemetry?.request({ request, route, operation });
    const scope = new RequestScope(requestIdOf(request.headers, span?.traceId, nextId), route, operation, actionId);
    const requestInfo = { request, requestId: scope.requestId, route, operation };
    let added: Record<string, string> | undefined;
    const add = (headers: Readonly<Record<string, string>> | undefined) => {
      if (headers !== undefined) added = { ...added, ...headers };
    };
    let thrown: unknown;
    let failed = false;
    const run = async (): Promise<Response> => {
      try {
        const onRequest = hooks?.onRequest;
        if (onRequest !== undefined) {
          // A hook's ActionError is the answer (a refusal); anything else thrown, a logged 500.
          add(hookHeaders(await onRequest({ ...requestInfo, actionId })));
        }
        return await handle(scope);
      } catch (error) {
        thrown = error;
        failed = true;
        return errorAnswer(error, scope);
      }
    };
    const response = await (span === undefined ? run() : span.run(run));
    const status = response.status;
    const code = failed ? errorCode(thrown) : undefined;
    const outcome: ResponseInfo = {
      ...requestInfo,
      actionId: scope.actionId,
      status,
      durationMs: performance.now() - started,
      identity: scope.identity,
      code,
    };
    if (failed) add(await callHook<ErrorInfo>('onError', { ...outcome, error: thrown }, scope));
    add(await callHook('onResponse', outcome, scope));
    span?.end({ status, actionId: scope.actionId, identity: scope.identity, code, error: thrown });
    if (info) {
      try {
        logger.info('request completed', requestLine(request, outcome));
      } catch {
        // A logger that throws must not turn an answered request into a 500.
      }
    }
    return scope.stamped && added === undefined ? response : withHeaders(response, scope.requestId, added);
  };
}

function errorCode(error: unknown): string | undefined {
  return isActionError(error) ? error.code : error === undefined ? undefined : 'ActionProviderError';
}

/** The info line of one request: never a token, a body or a query string. */
function requestLine(request: Request, outcome: ResponseInfo): LogFields {
  const line: LogFields = {
    request_id: outcome.requestId,
    method: request.method,
    route: outcome.route ?? null,
    operation: outcome.operation ?? null,
    status: outcome.status,
    duration_ms: Math.round(outcome.durationMs * 1000) / 1000,
  };
  if (outcome.actionId !== undefined) line['action_id'] = outcome.actionId;
  if (outcome.identity !== undefined) line['identity'] = outcome.identity;
  if (outcome.code !== undefined) line['code'] = outcome.code;
  return line;
}

/**
 * `response` with the request id and the hooks' headers. A response whose headers cannot be
 * changed (one a hook or callback fetched from elsewhere) is copied first.
 */
function withHeaders(
  response: Response,
  requestId: string,
  added: Readonly<Record<string, string>> | undefined,
): Response {
  try {
    setAll(response.headers, requestId, added);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    try {
      setAll(copy.headers, requestId, added);
    } catch {
      // A header value a hook made that Headers refuses: the id alone, rather than no answer.
      copy.headers.set(REQUEST_ID_HEADER, requestId);
    }
    return copy;
  }
}

function setAll(headers: Headers, requestId: string, added: Readonly<Record<string, string>> | undefined): void {
  if (added !== undefined) for (const name of Object.keys(added)) headers.set(name, added[name] as string);
  headers.set(REQUEST_ID_HEADER, requestId);
}

export type { HookResult };
