/**
 * @module client/errors: the one error the client throws, `ActionProviderError`: what the
 * provider answered (HTTP status, its `code` and `description`, the raw body, the Globus Auth
 * requirement it holds), or why there was no usable answer (the network, a page that is not an
 * Action Provider's JSON, a wait past its deadline). It never holds the token.
 */
import { type ReadGare, readGare } from '../auth/gare.ts';
import type { ActionStatus } from '../model.ts';

/**
 * The codes the client itself gives, beside the provider's own (`ActionNotFound`,
 * `UnauthorizedRequest`, `ActionConflict`, `ConsentRequired`, ...):
 * - `NetworkError`: no answer at all (connection refused, DNS, TLS, reset);
 * - `UnexpectedResponse`: an answer that is not what an Action Provider sends (an HTML 404
 *   page, an error without a JSON `code`, a 200 that is not an ActionStatus);
 * - `DeadlineExceeded`: `waitFor` reached its deadline before the action completed.
 */
export type ClientErrorCode = 'NetworkError' | 'UnexpectedResponse' | 'DeadlineExceeded';

export interface ActionProviderErrorInit {
  code: string;
  description: string;
  /** The HTTP status; undefined when there was no answer. */
  status?: number | undefined;
  /** The body as received. */
  body?: string | undefined;
  /** The request's method and URL. */
  method?: string | undefined;
  url?: string | undefined;
  /** The last status read, for `DeadlineExceeded`. */
  action?: ActionStatus | undefined;
  cause?: unknown;
}

/**
 * An operation failed. `status` is the HTTP status (undefined when nothing answered), `code` the
 * provider's code (or a {@link ClientErrorCode}), `requirement` the Globus Auth requirement the
 * answer holds (consent, or a login with a domain, MFA or policy), if any.
 *
 * @example
 * ```ts
 * try {
 *   await client.run({ body: { input_string: 'hi' } })
 * } catch (error) {
 *   if (!isActionProviderError(error)) throw error
 *   if (error.requirement?.code === 'ConsentRequired') askForConsent(error.requirement.authorization_parameters)
 *   else console.error(error.code, error.description)
 * }
 * ```
 */
export class ActionProviderError extends Error {
  override readonly name: string = 'ActionProviderError';
  readonly code: string;
  readonly description: string;
  readonly status: number | undefined;
  readonly body: string | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly requirement: ReadGare | undefined;
  readonly action: ActionStatus | undefined;

  constructor(init: ActionProviderErrorInit) {
    const where = init.method === undefined || init.url === undefined ? '' : `${init.method} ${init.url}: `;
    const status = init.status === undefined ? '' : `${init.status} `;
    super(`${where}${status}${init.code}: ${init.description}`, init.cause === undefined ? {} : { cause: init.cause });
    this.code = init.code;
    this.description = init.description;
    this.status = init.status;
    this.body = init.body;
    this.method = init.method;
    this.url = init.url;
    this.action = init.action;
    this.requirement = init.body === undefined ? undefined : readGare(parseOrUndefined(init.body));
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** True for an ActionProviderError from this or another copy of the library. */
export function isActionProviderError(error: unknown): error is ActionProviderError {
  return (
    error instanceof ActionProviderError ||
    (error instanceof Error &&
      error.name === 'ActionProviderError' &&
      typeof (error as { code?: unknown }).code === 'string')
  );
}

/**
 * The Globus Auth requirement an INACTIVE action waits on (its `details` read as a GARE:
 * consent to scopes, or a login with an identity, domain, MFA or policy), else undefined.
 *
 * @example
 * ```ts
 * const needs = requirementOf(await client.status(id))
 * if (needs?.code === 'ConsentRequired') console.log('consent to', needs.authorization_parameters.required_scopes)
 * ```
 */
export function requirementOf(status: Pick<ActionStatus, 'status' | 'details'>): ReadGare | undefined {
  return status.status === 'INACTIVE' ? readGare(status.details) : undefined;
}
