/**
 * @module check/expect: what an answer must be, as the list of what is wrong with it (empty
 * when it is right): its status, a JSON content type, an error body, an ActionStatus.
 */
import { isAddressable } from '../client/request.ts';
import { isPlainObject } from '../model.ts';
import type { Answer, Sent } from './exchange.ts';
import { gareProblems } from './gare.ts';
import type { SchemaCheck } from './schemas.ts';

/** `application/json`, or any `+json` type. */
export function isJsonType(headers: Headers): boolean {
  return /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(headers.get('content-type') ?? '');
}

/** A short picture of an answer body for a reason line: `an HTML page`, `{"code":"X",...}`. */
export function bodyGist(answer: Answer): string {
  if (answer.text === '') return 'an empty body';
  if (/^\s*<(!doctype|html)/i.test(answer.text)) return 'an HTML page';
  const text = answer.shown.replace(/\s+/g, ' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** What is wrong with the status code, or with there being no answer. */
export function statusProblems(sent: Sent, statuses: readonly number[]): string[] {
  const { answer } = sent;
  if (answer === undefined) return [`no answer: ${sent.exchange.error ?? 'unknown error'}`];
  if (statuses.includes(answer.status)) return [];
  return [`answered ${answer.status} (${bodyGist(answer)}), expected ${statuses.join(' or ')}`];
}

/** A JSON error, `{ "code": ..., "description": ... }`, with one of `statuses`. */
export function errorProblems(sent: Sent, statuses: readonly number[], errorBody: SchemaCheck): string[] {
  const problems = statusProblems(sent, statuses);
  const { answer } = sent;
  // A success where an error belongs is wrong enough; its body is no error body anyway.
  if (answer === undefined || answer.status < 400) return problems;
  if (!isJsonType(answer.headers))
    problems.push(`its Content-Type is ${answer.headers.get('content-type') ?? 'missing'}, not application/json`);
  if (answer.json === undefined) problems.push(`its body is no JSON (${bodyGist(answer)})`);
  else problems.push(...errorBody(answer.json).map((problem) => `error body ${problem}`));
  return problems;
}

/** What the checker reads of an ActionStatus (the schema check is separate: `action-status.schema`). */
export interface StatusSeen {
  action_id: string;
  status: unknown;
}

/** An ActionStatus with one of `statuses`: its problems, and the status when it has an action_id. */
export function actionStatusProblems(
  sent: Sent,
  statuses: readonly number[],
): { problems: string[]; seen: StatusSeen | undefined } {
  const problems = statusProblems(sent, statuses);
  const { answer } = sent;
  if (answer === undefined || problems.length > 0) return { problems, seen: undefined };
  if (!isJsonType(answer.headers))
    problems.push(`its Content-Type is ${answer.headers.get('content-type') ?? 'missing'}, not application/json`);
  const json = answer.json;
  if (!isPlainObject(json) || typeof json['action_id'] !== 'string' || json['action_id'] === '') {
    problems.push(`its body is no ActionStatus with an action_id (${bodyGist(answer)})`);
    return { problems, seen: undefined };
  }
  if (!isAddressable(json['action_id'])) {
    // URL resolution drops a dot segment: `/../status` would reach another route, with the token.
    problems.push(`its action_id ${JSON.stringify(json['action_id'])} is a dot segment: no URL can address it`);
    return { problems, seen: undefined };
  }
  return { problems, seen: { action_id: json['action_id'], status: json['status'] } };
}

export const TERMINAL = new Set<unknown>(['SUCCEEDED', 'FAILED']);

/**
 * The code of the Globus Auth requirement a 401 or 403 answers (the caller must consent or log
 * in first), or undefined: a check that needs a success cannot be made then (and `gare.shape`
 * judges the requirement).
 */
export function requirementOf(sent: Sent): string | undefined {
  const { answer } = sent;
  if (answer === undefined || (answer.status !== 401 && answer.status !== 403)) return undefined;
  if (gareProblems(answer.json, 'error') === undefined) return undefined;
  const code = isPlainObject(answer.json) ? answer.json['code'] : undefined;
  return typeof code === 'string' ? code : 'a requirement';
}

/** Why a check does not apply when the provider asked for a consent or login instead. */
export const askedFirst = (code: string): string =>
  `the provider asks the caller to consent or log in first (${code}); see gare.shape`;
