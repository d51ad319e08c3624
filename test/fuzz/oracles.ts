/**
 * @module test/fuzz/oracles: what every answer must satisfy, whatever was sent. No 5xx (no
 * outage is injected), an answer within the timeout, every error a JSON `{code, description}`
 * (HEAD and bodiless statuses aside), every 2xx body JSON, and no 2xx for a refused credential
 * outside the public introspection document and CORS preflights. Crashes and lost actions
 * need more than one answer; the engine (engine.ts) judges those.
 */
import type { FuzzRequest } from './request.ts';
import type { Outcome } from './send.ts';

export const ORACLES = [
  'server-error',
  'hang',
  'crash',
  'non-json-error',
  'no-answer',
  'auth-bypass',
  'bad-success',
  'lost-action',
] as const;
export type Oracle = (typeof ORACLES)[number];

/** What a failing answer broke, and what it looked like. */
export interface Violation {
  oracle: Oracle;
  /** Status and error code (or the connection error): part of the dedup key. */
  signature: string;
  /** What the provider logged while answering (`error unhandled error: TypeError: ...`): part of the key too. */
  cause?: string;
}

/** Statuses that never carry a body. */
const BODILESS = new Set([204, 304]);

/** The parsed JSON of an answer, or undefined when it is not JSON. */
export function jsonOf(outcome: Extract<Outcome, { kind: 'answer' }>): unknown {
  const type = String(outcome.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) return undefined;
  try {
    return JSON.parse(outcome.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const isErrorBody = (json: unknown): json is { code: string; description: string } =>
  typeof json === 'object' &&
  json !== null &&
  typeof (json as { code?: unknown }).code === 'string' &&
  typeof (json as { description?: unknown }).description === 'string';

/** The oracles one answer can be judged by on its own. */
export function judge(request: FuzzRequest, outcome: Outcome): Violation[] {
  if (outcome.kind === 'hang') return [{ oracle: 'hang', signature: 'no answer in time' }];
  if (outcome.kind === 'error') return [{ oracle: 'no-answer', signature: outcome.code }];
  if (outcome.kind !== 'answer') return [];
  const violations: Violation[] = [];
  const json = jsonOf(outcome);
  const code = isErrorBody(json) ? json.code : undefined;
  const signature = `${outcome.status}${code === undefined ? '' : ` ${code}`}`;
  if (outcome.status >= 500) violations.push({ oracle: 'server-error', signature });
  const hasBody = request.method !== 'HEAD' && !BODILESS.has(outcome.status);
  if (outcome.status >= 400 && hasBody && !isErrorBody(json)) {
    const type = String(outcome.headers['content-type'] ?? 'no content-type');
    violations.push({ oracle: 'non-json-error', signature: `${outcome.status} ${type}` });
  }
  if (outcome.status < 300) {
    if (hasBody && json === undefined)
      violations.push({ oracle: 'bad-success', signature: `${outcome.status} not JSON` });
    if (request.credential === 'invalid' && !isPublic(request, json)) {
      violations.push({ oracle: 'auth-bypass', signature: `${outcome.status} without a valid token` });
    }
  }
  return violations;
}

/** Answers anyone may have: CORS preflights and the introspection document (bodiless for HEAD). */
function isPublic(request: FuzzRequest, json: unknown): boolean {
  if (request.method === 'OPTIONS') return true;
  if (request.method === 'HEAD') return request.route === '/';
  return typeof json === 'object' && json !== null && 'globus_auth_scope' in json && 'api_version' in json;
}
