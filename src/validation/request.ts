/**
 * @module validation/request: a run's body checked as an ActionRequest: the envelope, the
 * deadline against the provider's `maximum_deadline`, and `body` against the input schema.
 */
import { addDuration } from '../duration.ts';
import { ActionError } from '../http/errors.ts';
import { ActionRequestSchema, isPlainObject, type StoredRequest } from '../model.ts';
import type { CompiledInput, InputResult } from './input.ts';
import { formatIssues } from './issues.ts';
import { MORE_NOT_LISTED, parseListing } from './listing.ts';

export interface RequestRules {
  input: CompiledInput;
  /** The provider's `maximum_deadline` (an ISO 8601 duration). */
  maximumDeadline: string;
  /** Keep the caller's data out of the messages. */
  scrub: boolean;
}

/**
 * The request to store, or a 422 RequestValidationError naming each field at fault. A promise
 * only when the input schema validated asynchronously: a sync schema's run takes no extra tick.
 */
export function parseActionRequest(
  json: unknown,
  now: number,
  rules: RequestRules,
): StoredRequest | Promise<StoredRequest> {
  if (!isPlainObject(json)) {
    throw new ActionError('RequestValidationError', "Field '$' (category: 'type'): Invalid type: Expected object");
  }
  const { result: parsed, partial } = parseListing(ActionRequestSchema, json);
  if (!parsed.success) {
    const message = formatIssues(parsed.issues, rules.scrub);
    throw new ActionError('RequestValidationError', partial ? `${message}; ${MORE_NOT_LISTED}` : message);
  }
  const request = parsed.output;
  if (request.deadline !== null) checkDeadline(request.deadline, now, rules.maximumDeadline);
  const body = rules.input.validate(request.body, rules.scrub);
  if (body instanceof Promise) return body.then((settled) => withBody(request, settled));
  return withBody(request, body);
}

function withBody(request: StoredRequest, body: InputResult<unknown>): StoredRequest {
  if (!body.ok) throw new ActionError('RequestValidationError', body.message);
  return { ...request, body: body.value as StoredRequest['body'] };
}

function checkDeadline(deadline: string, now: number, maximum: string): void {
  const at = Date.parse(deadline);
  const field = "Field '$.deadline' (category: 'value'): ";
  if (Number.isNaN(at)) throw new ActionError('RequestValidationError', `${field}not a valid date-time`);
  if (at <= now) throw new ActionError('RequestValidationError', `${field}the deadline has already passed`);
  if (at > addDuration(now, maximum)) {
    throw new ActionError('RequestValidationError', `${field}beyond this provider's maximum_deadline of ${maximum}`);
  }
}
