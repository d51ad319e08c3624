/**
 * @module check/gare: whether a Globus Auth requirement a provider answers (an INACTIVE
 * action's details, or a 401/403 body) reads as the clients read it: globus-sdk's `to_gare()`,
 * globus-cli's resume, the web app, and Flows, which copies a ConsentRequired action's
 * `required_scope` into the run and renews tokens on resume.
 */
import { isPlainObject } from '../model.ts';

/** The codes a requirement comes with (Flows itself uses the third). */
const REQUIREMENT_CODES = new Set(['ConsentRequired', 'AuthorizationRequired', 'AuthenticationPolicyRequired']);

const isStrings = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '');

/** Each `authorization_parameters` key clients read, and what it must be. */
const PARAMETERS: Record<string, [(value: unknown) => boolean, string]> = {
  session_message: [(value) => typeof value === 'string', 'a string'],
  session_required_identities: [isStrings, 'an array of strings'],
  session_required_single_domain: [isStrings, 'an array of strings'],
  session_required_policies: [isStrings, 'an array of strings'],
  session_required_mfa: [(value) => typeof value === 'boolean', 'a boolean'],
  required_scopes: [isStrings, 'an array of scope strings'],
  prompt: [(value) => value === 'login', '"login"'],
};

/**
 * What keeps `value` from reading as a requirement, or undefined when it claims none (no
 * `authorization_parameters`, no requirement code, no `required_scope`). `where`: in an
 * INACTIVE action's details, where Flows needs a ConsentRequired's `required_scope`, or an
 * error body, where either form will do.
 */
export function gareProblems(value: unknown, where: 'details' | 'error'): string[] | undefined {
  if (!isPlainObject(value)) return undefined;
  const code = value['code'];
  const parameters = value['authorization_parameters'];
  const claims =
    parameters !== undefined ||
    (typeof code === 'string' && REQUIREMENT_CODES.has(code)) ||
    'required_scope' in value ||
    'required_scopes' in value;
  if (!claims) return undefined;
  const problems: string[] = [];
  if (typeof code !== 'string' || code === '') problems.push('code must be a non-empty string');
  if (parameters !== undefined) {
    if (!isPlainObject(parameters)) problems.push('authorization_parameters must be an object');
    else
      for (const [key, [valid, expected]] of Object.entries(PARAMETERS))
        if (key in parameters && !valid(parameters[key]))
          problems.push(`authorization_parameters.${key} must be ${expected}`);
  }
  const legacyScope = value['required_scope'];
  if (legacyScope !== undefined && typeof legacyScope !== 'string') problems.push('required_scope must be one string');
  if (code === 'ConsentRequired') {
    const scopes = isPlainObject(parameters) ? parameters['required_scopes'] : undefined;
    if (where === 'details' && typeof legacyScope !== 'string')
      problems.push('a ConsentRequired action needs required_scope (one string): Flows copies it into the run');
    else if (typeof legacyScope !== 'string' && !isStrings(scopes) && !isStrings(value['required_scopes']))
      problems.push('a ConsentRequired names no scope (required_scope or authorization_parameters.required_scopes)');
  } else if (!isPlainObject(parameters))
    problems.push(`a ${String(code)} without authorization_parameters is no requirement any client reads`);
  return problems;
}
