/**
 * @module cli/requirement: a Globus Auth requirement (a GARE: consent to scopes, or a login with
 * an identity, a domain, MFA or a policy) as the steps a person at the terminal must take.
 */
import type { ReadGare } from '../auth/gare.ts';
import { requirementOf } from '../client/errors.ts';
import type { ActionStatus } from '../model.ts';

export interface AdviceContext {
  /** What to do once the requirement is met ("resume: globus-action-provider resume URL ID"). */
  next: string;
  /** The token was minted from a dev-mode key: say how to mint one that meets the requirement. */
  dev: boolean;
}

const list = (items: readonly string[]) => items.join(', ');

/** The lines to print (each indented), most specific first. */
export function requirementAdvice(gare: ReadGare, context: AdviceContext): string[] {
  const p = gare.authorization_parameters;
  const lines: string[] = [];
  if (p.session_message !== undefined && p.session_message !== '') lines.push(`  ${p.session_message}`);
  const scopes = p.required_scopes ?? [];
  if (scopes.length > 0) {
    lines.push(`  Consent needed (${gare.code}) to: ${list(scopes)}`);
    lines.push(
      `  Consent for the client your token comes from (with the Globus CLI: globus session consent ${scopes.map((s) => `'${s}'`).join(' ')}),`,
      '  then get a new token.',
    );
  }
  const login: string[] = [];
  if (p.session_required_identities?.length)
    login.push(`with one of these identities: ${list(p.session_required_identities)}`);
  if (p.session_required_single_domain?.length)
    login.push(`with an identity from ${list(p.session_required_single_domain)}`);
  if (p.session_required_mfa === true) login.push('with multi-factor authentication (MFA)');
  if (p.session_required_policies?.length)
    login.push(`so as to meet the authentication policies ${list(p.session_required_policies)}`);
  if (login.length > 0 || p.prompt === 'login') {
    lines.push(`  Log in again (${gare.code})${login.length > 0 ? ` ${login.join('; ')}` : ''}, then get a new token.`);
    if (context.dev) {
      const domain = p.session_required_single_domain?.[0];
      const mint = [
        'globus-action-provider token',
        ...(p.session_required_mfa === true ? ['--mfa'] : []),
        ...(domain === undefined ? [] : [`--username you@${domain}`]),
      ].join(' ');
      lines.push(`  In dev mode: --token "$(${mint})"`);
    }
  }
  if (lines.length === 0) lines.push(`  The provider needs something of your login (${gare.code}) it did not say.`);
  lines.push(`  Then ${context.next}`);
  return lines;
}

/** For an INACTIVE action, what it waits on and what to do (the lines for stderr); else undefined. */
export function inactiveNotice(status: ActionStatus, context: AdviceContext): string | undefined {
  if (status.status !== 'INACTIVE') return undefined;
  const gare = requirementOf(status);
  if (gare === undefined)
    return `The action is INACTIVE: it waits for someone to act (see its details), then ${context.next}\n`;
  return `The action is INACTIVE until this is done:\n${requirementAdvice(gare, context).join('\n')}\n`;
}
