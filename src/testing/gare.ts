/**
 * @module testing/gare: reading a Globus Auth Requirements Error as Globus clients do, for
 * assertions: `readGare` follows the shapes globus-sdk's `to_gare()` accepts, in its order (see
 * ../shared/reference/globus-payloads.md), and `cliResumes` the rule globus-cli's
 * `flows run resume` applies before resuming.
 */
import type { AuthorizationParameters } from '../auth/gare.ts';

/** A GARE as a client reads it: the code and the parameters; any other key is ignored. */
export interface ReadGare {
  code: string;
  authorization_parameters: AuthorizationParameters;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')
    ? value
    : typeof value === 'string'
      ? value.split(',').filter(Boolean)
      : undefined;

/** `authorization_parameters` as the SDK reads them (policies and domains may be comma-joined). */
function parameters(raw: Record<string, unknown>): AuthorizationParameters {
  const out: AuthorizationParameters = {};
  if (typeof raw['session_message'] === 'string') out.session_message = raw['session_message'];
  for (const key of [
    'session_required_identities',
    'session_required_single_domain',
    'session_required_policies',
    'required_scopes',
  ] as const) {
    const list = strings(raw[key]);
    if (list !== undefined) out[key] = list;
  }
  if (typeof raw['session_required_mfa'] === 'boolean') out.session_required_mfa = raw['session_required_mfa'];
  if (raw['prompt'] === 'login') out.prompt = 'login';
  return out;
}

/**
 * The GARE in `value` (an INACTIVE action's `details`, or an error body), or undefined: a GARE
 * proper (`code` and an `authorization_parameters` object), a bare `authorization_parameters`
 * error, Transfer's `{code: ConsentRequired, required_scopes}`, the legacy action-provider
 * `{code: ConsentRequired, required_scope}` (its description the session message), or Auth's
 * `dependent_consent_required` answer.
 */
export function readGare(value: unknown): ReadGare | undefined {
  if (!isObject(value)) return undefined;
  const code = typeof value['code'] === 'string' ? value['code'] : undefined;
  if (isObject(value['authorization_parameters'])) {
    return {
      code: code ?? 'AuthorizationRequired',
      authorization_parameters: parameters(value['authorization_parameters']),
    };
  }
  if (code === 'ConsentRequired') {
    const scopes = strings(value['required_scopes']);
    if (scopes !== undefined && Array.isArray(value['required_scopes'])) {
      return { code, authorization_parameters: { required_scopes: scopes } };
    }
    if (typeof value['required_scope'] === 'string') {
      const message = typeof value['description'] === 'string' ? { session_message: value['description'] } : {};
      return { code, authorization_parameters: { ...message, required_scopes: [value['required_scope']] } };
    }
  }
  const errors = value['errors'];
  if (Array.isArray(errors) && isObject(errors[0])) {
    const first = errors[0];
    const unapproved = strings(first['unapproved_scopes']);
    if (String(first['code']).toLowerCase() === 'dependent_consent_required' && unapproved !== undefined) {
      return { code: 'ConsentRequired', authorization_parameters: { required_scopes: unapproved } };
    }
  }
  return undefined;
}

/**
 * Whether globus-cli's `flows run resume` goes ahead: it asks for consent to `required_scopes`
 * not yet `consented`; once they are, any other requirement (apart from `session_message`)
 * makes it refuse until the user logs in again.
 */
export function cliResumes(gare: ReadGare, consented: readonly string[]): 'consent' | 'login' | 'resume' {
  const { session_message: _message, required_scopes = [], ...rest } = gare.authorization_parameters;
  if (required_scopes.some((scope) => !consented.includes(scope))) return 'consent';
  return Object.keys(rest).length > 0 ? 'login' : 'resume';
}
