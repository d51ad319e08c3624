/**
 * @module dev/mint: what a dev token may say (checked before anything is signed, so a typo is a
 * TypeError naming it rather than a token every provider refuses) and how long it lives.
 */
import { identityUrn } from '../auth/caller.ts';
import { groupOf, identityId } from '../auth/jwt/claims.ts';

export interface DevMintOptions {
  /** Who the token is for: a Globus identity id (a UUID) or its URN. Default: the dev identity. */
  identity?: string;
  /** Linked identities (ids or URNs), the token's `identity_set`: they count for authorization too. */
  identities?: readonly string[];
  /** Group ids or `urn:globus:groups:id:` URNs, the token's `groups`. */
  groups?: readonly string[];
  /** The scopes granted, space-separated. Default: `devAuth`'s `scope`. */
  scope?: string;
  /** Seconds, or a number with a unit: `90s`, `30m`, `12h`, `7d`. Default one hour, at most 30 days. */
  expiresIn?: number | string;
  /** A multi-factor login (`amr: ["pwd", "mfa"]`), for a provider that requires one. Default false. */
  mfa?: boolean;
  /** The login's username (`preferred_username`), whose domain `requireSession({ domains })` checks. */
  username?: string;
}

/** Claims and lifetime of one token, checked. */
export interface MintClaims {
  sub: string;
  scope: string;
  identitySet: string[] | undefined;
  groups: string[] | undefined;
  expiresIn: number;
  mfa: boolean;
  username: string | undefined;
}

export const DEFAULT_EXPIRES_IN = 3_600;
/** Long enough for a week of testing by hand; a dev token is not a credential to keep. */
export const MAX_EXPIRES_IN = 30 * 86_400;
const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 };
export const EXPIRES_IN_RULE = 'seconds, or a number with a unit (90s, 30m, 12h, 7d), from 1 second to 30 days';
export const IDENTITY_RULE = 'a Globus identity id (a UUID) or urn:globus:auth:identity:<uuid>';
export const SCOPE_RULE = 'a non-empty string of space-separated scopes';
export const GROUP_RULE = 'a group id or a urn:globus:groups:id: URN';
export const USERNAME_RULE = 'a username with one @ (user@uchicago.edu)';

/** A username as Globus writes them: `name@domain`, printable, no spaces. */
export const isUsername = (value: unknown): value is string =>
  typeof value === 'string' && /^[^\s@]+@[^\s@]+$/.test(value) && value.length <= 256;

/** `3600`, `90s`, `30m`, `12h`, `7d` (or a number of seconds) as seconds; undefined when it is none of those or out of range. */
export function expiresInSeconds(value: unknown): number | undefined {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else {
    const match = typeof value === 'string' ? /^(\d{1,9})([smhd]?)$/.exec(value.trim()) : null;
    if (!match) return undefined;
    seconds = Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
  }
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_EXPIRES_IN ? seconds : undefined;
}

/** A scope claim: printable ASCII, space-separated scopes, at least one. */
export const isScope = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '' && !/[^\x21-\x7e ]/.test(value);

/** A group as jwtAuth accepts one: an id or name, or a group URN (any other URN is refused). */
export const isGroup = (value: unknown): value is string => typeof value === 'string' && groupOf(value) !== undefined;

function fail(message: string): never {
  throw new TypeError(`devAuth mint: ${message}`);
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail(`${what} must be an array`);
  return value;
}

/** Checks `options` and fills in the defaults; a TypeError names what is wrong. */
export function resolveMint(
  options: DevMintOptions | undefined,
  defaults: { identity: string; scope: string | undefined },
): MintClaims {
  const given: DevMintOptions = options ?? {};
  if (typeof given !== 'object' || given === null) fail('options must be an object');
  const scope = given.scope ?? defaults.scope;
  if (scope === undefined) fail('no scope: give scope here, or to devAuth()');
  if (!isScope(scope)) fail(`scope must be ${SCOPE_RULE}`);
  const sub = given.identity === undefined ? defaults.identity : identityId(given.identity);
  if (sub === undefined) fail(`identity must be ${IDENTITY_RULE}`);
  const expiresIn = expiresInSeconds(given.expiresIn ?? DEFAULT_EXPIRES_IN);
  if (expiresIn === undefined) fail(`expiresIn must be ${EXPIRES_IN_RULE}`);
  const identitySet = given.identities === undefined ? undefined : list(given.identities, 'identities');
  const groups = given.groups === undefined ? undefined : list(given.groups, 'groups');
  if (given.mfa !== undefined && typeof given.mfa !== 'boolean') fail('mfa must be a boolean');
  if (given.username !== undefined && !isUsername(given.username)) fail(`username must be ${USERNAME_RULE}`);
  return {
    sub,
    scope: scope.trim(),
    identitySet: identitySet?.map((entry) => {
      const id = identityId(entry);
      return id === undefined ? fail(`identities must each be ${IDENTITY_RULE}`) : identityUrn(id);
    }),
    groups: groups?.map((entry) => (isGroup(entry) ? entry : fail(`groups must each be ${GROUP_RULE}`))),
    expiresIn,
    mfa: given.mfa ?? false,
    username: given.username,
  };
}
