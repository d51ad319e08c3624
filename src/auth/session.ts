/**
 * @module auth/session: session requirements (an identity from given domains, a given identity,
 * a multi-factor login, Globus authentication policies), the caller's session they are checked
 * against, and the check, whose answer is the `authorization_parameters` of the requirements
 * left unmet: what a Globus client then asks the user to do, and nothing more.
 */
import { type AuthorizationParameters, AuthorizationRequiredError } from './gare.ts';
import type { Caller } from './types.ts';

/** What the caller's Globus session must include. Every key is optional; each given one must hold. */
export interface SessionRequirement {
  /** An identity from one of these domains (`uchicago.edu`): the part of a username after its `@`. */
  domains?: readonly string[];
  /** One of these identities: ids, `urn:globus:auth:identity:` URNs or usernames. */
  identities?: readonly string[];
  /** A multi-factor login. */
  mfa?: boolean;
  /** Globus authentication policies (ids), each of which the session must satisfy. */
  policies?: readonly string[];
  /** Shown to the user when a client sends them to log in (`session_message`). */
  message?: string;
}

/** One login in the caller's session. */
export interface SessionAuthentication {
  /** The identity that logged in, `urn:globus:auth:identity:<id>`. */
  identity: string;
  /** Its username (`user@uchicago.edu`), when the authenticator knows it. */
  username?: string;
  /** Its identity provider's id. */
  idp?: string;
  /** When it logged in, in ms since the epoch. */
  time?: number;
  /** Whether the login was multi-factor. */
  mfa: boolean;
}

/** The caller's session, as the authenticator saw it. */
export interface Session {
  id?: string;
  authentications: readonly SessionAuthentication[];
  /** Globus's evaluation of each authentication policy asked about: true when the session satisfies it. */
  policies: Readonly<Record<string, boolean>>;
}

const IDENTITY_PREFIX = 'urn:globus:auth:identity:';
/** No whitespace and no comma: GARE parsers also accept comma-joined lists, which a comma would split. */
const WORD = /^[^\s,]+$/;
const MAX_MESSAGE = 1000;
const KEYS = new Set(['domains', 'identities', 'mfa', 'policies', 'message']);

function words(value: unknown, key: string, where: string, check: (word: string) => boolean): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) {
    throw new TypeError(`${where}.${key} must be a list of 1 to 100 strings`);
  }
  for (const word of value) {
    if (typeof word !== 'string' || !WORD.test(word) || word.length > 256 || !check(word)) {
      throw new TypeError(`${where}.${key} has an invalid entry: ${JSON.stringify(word)}`);
    }
  }
  return [...new Set(value as string[])];
}

/**
 * `value` checked as a SessionRequirement (a TypeError naming `where` otherwise), copied, lists
 * deduplicated. Undefined when it requires nothing.
 */
export function sessionRequirement(value: unknown, where: string): SessionRequirement | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} must be an object ({ domains, identities, mfa, policies, message })`);
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KEYS.has(key)) throw new TypeError(`${where} has an unknown key: ${key}`);
  }
  const domains = words(given['domains'], 'domains', where, (d) => !d.includes('@') && d.includes('.'));
  const identities = words(given['identities'], 'identities', where, () => true);
  const policies = words(given['policies'], 'policies', where, () => true);
  const { mfa, message } = given;
  if (mfa !== undefined && typeof mfa !== 'boolean') throw new TypeError(`${where}.mfa must be a boolean`);
  if (message !== undefined && (typeof message !== 'string' || message === '' || message.length > MAX_MESSAGE)) {
    throw new TypeError(`${where}.message must be a string of 1 to ${MAX_MESSAGE} characters`);
  }
  const requirement: SessionRequirement = {
    ...(domains && { domains: domains.map((d) => d.toLowerCase()) }),
    ...(identities && { identities }),
    ...(mfa === true && { mfa }),
    ...(policies && { policies }),
  };
  if (Object.keys(requirement).length === 0) return undefined;
  return message === undefined ? requirement : { ...requirement, message: message as string };
}

/** Both requirements at once (either may be absent). */
export function bothRequirements(
  a: SessionRequirement | undefined,
  b: SessionRequirement | undefined,
): SessionRequirement | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const union = (x?: readonly string[], y?: readonly string[]) =>
    x === undefined || y === undefined ? (x ?? y) : [...new Set([...x, ...y])];
  const domains = union(a.domains, b.domains);
  const identities = union(a.identities, b.identities);
  const policies = union(a.policies, b.policies);
  const message = b.message ?? a.message;
  return {
    ...(domains && { domains }),
    ...(identities && { identities }),
    ...((a.mfa === true || b.mfa === true) && { mfa: true }),
    ...(policies && { policies }),
    ...(message !== undefined && { message }),
  };
}

const domainOf = (username: string | undefined) => {
  const at = username?.lastIndexOf('@') ?? -1;
  return at < 0 ? undefined : (username as string).slice(at + 1).toLowerCase();
};

/** An identity as a requirement names it: a username (has `@`) or an id (a URN stripped). */
function matchesIdentity(wanted: string, login: SessionAuthentication): boolean {
  if (wanted.includes('@') && !wanted.startsWith('urn:')) {
    return login.username !== undefined && login.username.toLowerCase() === wanted.toLowerCase();
  }
  // Identity ids are UUIDs, which Globus writes in lower case; a requirement may not.
  const id = (wanted.startsWith(IDENTITY_PREFIX) ? wanted : IDENTITY_PREFIX + wanted).toLowerCase();
  return login.identity.toLowerCase() === id;
}

const plainId = (identity: string) =>
  identity.startsWith(IDENTITY_PREFIX) ? identity.slice(IDENTITY_PREFIX.length) : identity;

/** The default `session_message`, naming what is missing. */
function describe(unmet: AuthorizationParameters): string {
  const parts: string[] = [];
  const domains = unmet.session_required_single_domain;
  if (domains) parts.push(`an identity from ${domains.join(' or ')}`);
  const identities = unmet.session_required_identities;
  if (identities) parts.push(`a login as ${identities.join(' or ')}`);
  if (unmet.session_required_mfa) parts.push('a multi-factor login');
  const policies = unmet.session_required_policies;
  if (policies)
    parts.push(`a session satisfying authentication polic${policies.length > 1 ? 'ies' : 'y'} ${policies.join(', ')}`);
  return `This action requires ${parts.join(', ')}`;
}

/**
 * What of `requirement` the `session` does not satisfy, as GARE `authorization_parameters`
 * (with a `session_message`), or undefined when it satisfies all of it. No session (an
 * authenticator that knows none) satisfies nothing.
 */
export function unmetRequirement(
  requirement: SessionRequirement,
  session: Session | undefined,
): AuthorizationParameters | undefined {
  const logins = session?.authentications ?? [];
  const unmet: AuthorizationParameters = {};
  const { domains, identities, policies } = requirement;
  if (domains && !logins.some((login) => domains.includes(domainOf(login.username) ?? ''))) {
    unmet.session_required_single_domain = [...domains];
  }
  if (identities && !logins.some((login) => identities.some((wanted) => matchesIdentity(wanted, login)))) {
    unmet.session_required_identities = identities.map(plainId);
  }
  if (requirement.mfa && !logins.some((login) => login.mfa)) unmet.session_required_mfa = true;
  const failing = policies?.filter((policy) => session?.policies[policy] !== true);
  if (failing !== undefined && failing.length > 0) unmet.session_required_policies = failing;
  if (Object.keys(unmet).length === 0) return undefined;
  return { session_message: requirement.message ?? describe(unmet), ...unmet };
}

/**
 * The session requirement an action waits on, read from its `details` (a GARE's
 * `session_required_*` keys, whoever wrote it: the toolkit, or a callback passing on one from
 * Transfer), or undefined.
 */
export function awaitedRequirement(details: unknown): SessionRequirement | undefined {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return undefined;
  const parameters = (details as Record<string, unknown>)['authorization_parameters'];
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) return undefined;
  const p = parameters as Record<string, unknown>;
  const list = (value: unknown) =>
    Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')
      ? (value as string[])
      : typeof value === 'string' && value !== ''
        ? value.split(',').filter(Boolean)
        : undefined;
  const domains = list(p['session_required_single_domain']);
  const identities = list(p['session_required_identities']);
  const policies = list(p['session_required_policies']);
  const requirement: SessionRequirement = {
    ...(domains && { domains: domains.map((d) => d.toLowerCase()) }),
    ...(identities && { identities }),
    ...(p['session_required_mfa'] === true && { mfa: true }),
    ...(policies && { policies }),
  };
  if (Object.keys(requirement).length === 0) return undefined;
  return typeof p['session_message'] === 'string' ? { ...requirement, message: p['session_message'] } : requirement;
}

/**
 * What of `requirement` the caller's session leaves unmet (see `unmetRequirement`), asking the
 * authenticator for the session only when there is a requirement.
 */
export async function sessionShortfall(
  caller: Caller,
  requirement: SessionRequirement | undefined,
): Promise<AuthorizationParameters | undefined> {
  if (requirement === undefined) return undefined;
  const session = await caller.session?.(requirement.policies ?? []);
  return unmetRequirement(requirement, session);
}

/** Throws the AuthorizationRequiredError for what of `requirement` the caller's session leaves unmet. */
export async function demandSession(caller: Caller, requirement: SessionRequirement | undefined): Promise<void> {
  const unmet = await sessionShortfall(caller, requirement);
  if (unmet !== undefined) throw new AuthorizationRequiredError(unmet);
}
