/**
 * @module testing/gare: reading a Globus Auth Requirements Error as Globus clients do, for
 * assertions: `readGare` (from the core, where `AuthorizationRequiredError.from` uses it too)
 * follows the shapes globus-sdk's `to_gare()` accepts, in its order (see
 * ../shared/reference/globus-payloads.md), and `cliResumes` the rule globus-cli's
 * `flows run resume` applies before resuming.
 */
import type { ReadGare } from '../auth/gare.ts';

export { type ReadGare, readGare } from '../auth/gare.ts';

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
