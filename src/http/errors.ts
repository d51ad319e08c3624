/** @module http/errors: the one error type of the toolkit, its stable codes and their HTTP statuses. */
import { CORS_HEADERS, jsonResponse } from './response.ts';

/** Every error code a client can receive, mapped to its HTTP status (the one table). */
export const ERROR_STATUS = {
  BadActionRequest: 400,
  UnauthorizedRequest: 401,
  ForbiddenRequest: 403,
  ActionNotFound: 404,
  MethodNotAllowed: 405,
  RequestTimeout: 408,
  ActionConflict: 409,
  PayloadTooLarge: 413,
  RequestValidationError: 422,
  ActionProviderError: 500,
  NotImplemented: 501,
  ServiceUnavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** The JSON body of every error response: `{"code": "...", "description": "..."}`. */
export interface ErrorBody {
  code: ErrorCode;
  description: string;
}

export interface ActionErrorOptions {
  /** Extra response headers, e.g. `Allow` on 405 or `WWW-Authenticate` on 401. */
  headers?: Record<string, string>;
  /** The underlying error; logged for 5xx, never sent to the client. */
  cause?: unknown;
}

/**
 * The single error type. Throw it from a callback to answer with that code; anything else
 * thrown becomes the generic 500 body with the cause logged.
 *
 * @example
 * ```ts
 * throw new ActionError('RequestValidationError', 'Field $.path (category: value): path must be absolute')
 * ```
 */
export class ActionError extends Error {
  override readonly name: string = 'ActionError';
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly description: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, description: string, options: ActionErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.description = description;
    this.headers = options.headers ?? {};
  }

  toJSON(): ErrorBody {
    return { code: this.code, description: this.description };
  }

  /** The headers of `getResponse()`: JSON content type, CORS and this error's own. */
  getResponseHeaders(): Record<string, string> {
    return { 'content-type': 'application/json', ...CORS_HEADERS, ...this.headers };
  }

  /** The response a client sees; duck-typed by the error handler so another copy of the library still renders. */
  getResponse(): Response {
    return jsonResponse(this.toJSON(), this.status, this.headers);
  }
}

/** True for an ActionError from this or another copy of the library. */
export function isActionError(error: unknown): error is ActionError {
  return (
    error instanceof ActionError ||
    (typeof error === 'object' &&
      error !== null &&
      typeof (error as { code?: unknown }).code === 'string' &&
      Object.hasOwn(ERROR_STATUS, (error as { code: string }).code) &&
      typeof (error as { getResponse?: unknown }).getResponse === 'function')
  );
}

/** The body of every unexpected failure: the cause is logged, never echoed. */
export const INTERNAL_ERROR: ErrorBody = { code: 'ActionProviderError', description: 'Internal Server Error' };
