/**
 * @module auth/gare: Globus Auth Requirements Errors (GARE): what a provider says when the user
 * must consent to scopes, in the form every Globus client reads. The legacy action-provider keys
 * (`code`, `description`, `required_scope`) sit beside `authorization_parameters`, which globus-cli,
 * the SDKs and the web app read (see ../shared/reference/globus-payloads.md, "Auth requirements").
 */
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
