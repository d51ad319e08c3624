/**
 * @module auth/consent: the error a dependent-token request raises when the user has not
 * consented to a downstream scope. Let it propagate from `run`, `status` or `resume` and the
 * toolkit turns the action INACTIVE with the details Globus clients recognise, so the user can
 * consent and call resume.
 */
import { ActionError } from '../http/errors.ts';

export class ConsentRequiredError extends ActionError {
  override readonly name: string = 'ConsentRequiredError';
  /** The downstream scopes still needing consent. */
  readonly scopes: readonly string[];

  constructor(scopes: readonly string[], options: { cause?: unknown } = {}) {
    // Where the toolkit cannot turn it into an INACTIVE action, it answers 403.
    super('ForbiddenRequest', `Consent required for ${scopes.join(' ')}`, options);
    this.scopes = scopes;
  }

  /** `<provider scope>[<dependent scope> ...]`, the one string Globus clients ask consent for. */
  requiredScope(providerScope: string): string {
    return `${providerScope}[${this.scopes.join(' ')}]`;
  }
}

/** True for a ConsentRequiredError from this or another copy of the library. */
export function isConsentRequired(error: unknown): error is ConsentRequiredError {
  return (
    error instanceof ConsentRequiredError ||
    (error instanceof Error &&
      error.name === 'ConsentRequiredError' &&
      Array.isArray((error as { scopes?: unknown }).scopes))
  );
}
