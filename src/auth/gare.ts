/**
 * @module auth/gare: Globus Auth Requirements Errors (GARE): what a provider says when the user
 * must consent to scopes or log in again (an identity from a domain, MFA, a policy), in the form
 * every Globus client reads, and how one is read. For consent, the legacy action-provider keys
 * (`code`, `description`, `required_scope`) sit beside `authorization_parameters`, which
 * globus-cli, the SDKs and the web app read (see ../shared/reference/globus-payloads.md,
 * "Auth requirements").
 */
import { ActionError } from '../http/errors.ts';
import type { JsonObject } from '../model.ts';
import type { ConsentRequiredError } from './consent.ts';

/** The `authorization_parameters` of a GARE (every key optional). */
export interface AuthorizationParameters {
  session_message?: string;
  session_required_identities?: string[];
  session_required_single_domain?: string[];
  session_required_policies?: string[];
  session_required_mfa?: boolean;
  required_scopes?: string[];
  prompt?: 'login';
}

/** A GARE, with the legacy keys an action provider's INACTIVE details have always carried. */
export interface AuthRequirement extends JsonObject {
  code: string;
  description: string;
  authorization_parameters: AuthorizationParameters;
  required_scope?: string;
}

/**
 * What a missing consent looks like to clients: an INACTIVE action's `details`, or the body of
 * the 403 answered when there is no action yet. Old clients read `required_scope` (one string,
 * the provider scope with the dependent scopes in brackets), new ones `authorization_parameters`.
 */
export function consentRequirement(providerScope: string, error: ConsentRequiredError): AuthRequirement {
  const scope = error.requiredScope(providerScope);
  const description = `The user must consent to ${error.scopes.join(' ')} before this action can continue`;
  return {
    code: 'ConsentRequired',
    description,
    required_scope: scope,
    authorization_parameters: { session_message: description, required_scopes: [scope] },
  };
}

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
function readParameters(raw: Record<string, unknown>): AuthorizationParameters {
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
      authorization_parameters: readParameters(value['authorization_parameters']),
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
 * A callback needs the caller to log in again (an identity from a domain, a given identity, MFA,
 * a policy: see `requireSession` in every callback's context), or passes on such a requirement
 * from a Globus service it called (`AuthorizationRequiredError.from(body)`). Thrown from `run`
 * it is a 403 whose body is the GARE; from a callback on an existing action or from `work`, the
 * action goes INACTIVE with the GARE in its details until a resume (or, as Flows does, a status
 * poll) by a caller whose session satisfies it.
 */
export class AuthorizationRequiredError extends ActionError {
  override readonly name: string = 'AuthorizationRequiredError';
  /** The GARE's code: `AuthorizationRequired` unless one passed on says otherwise. */
  readonly requirementCode: string;
  readonly parameters: AuthorizationParameters;

  constructor(parameters: AuthorizationParameters, options: { code?: string; cause?: unknown } = {}) {
    // Only the keys clients read, with the types they expect: this ends up in stored details.
    const kept = isObject(parameters) ? readParameters(parameters) : {};
    const code = typeof options.code === 'string' && options.code !== '' ? options.code : 'AuthorizationRequired';
    const scopes = kept.required_scopes;
    const message =
      kept.session_message ??
      (code === 'ConsentRequired' && scopes !== undefined
        ? `The user must consent to ${scopes.join(' ')} before this action can continue`
        : 'The user must log in again before this action can continue');
    super('ForbiddenRequest', message, { cause: options.cause });
    this.requirementCode = code;
    this.parameters = kept;
  }

  /** The requirement in a Globus error body (any shape `readGare` reads), or undefined when it holds none. */
  static from(body: unknown): AuthorizationRequiredError | undefined {
    const gare = readGare(body);
    return gare === undefined
      ? undefined
      : new AuthorizationRequiredError(gare.authorization_parameters, { code: gare.code });
  }
}

/** True for an AuthorizationRequiredError from this or another copy of the library. */
export function isAuthorizationRequired(error: unknown): error is AuthorizationRequiredError {
  return (
    error instanceof AuthorizationRequiredError ||
    (error instanceof Error &&
      error.name === 'AuthorizationRequiredError' &&
      typeof (error as { parameters?: unknown }).parameters === 'object')
  );
}

/** The GARE an AuthorizationRequiredError stands for: an INACTIVE action's details, or a 403 body. */
export function authorizationRequirement(error: AuthorizationRequiredError): AuthRequirement {
  const scopes = error.parameters.required_scopes;
  return {
    code: error.requirementCode,
    description: error.description,
    // A consent passed on from elsewhere also in the legacy form, which names one scope string.
    ...(error.requirementCode === 'ConsentRequired' && scopes?.length === 1 && { required_scope: scopes[0] as string }),
    authorization_parameters: { ...error.parameters },
  };
}
