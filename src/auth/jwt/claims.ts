/**
 * @module auth/jwt/claims: what a verified token's claims say about the caller, refusing
 * claims that would make it someone or something it is not (a group URN as its identity, an
 * identity URN among its groups).
 */
import type { JWTPayload } from 'jose';
import { groupUrn, identityUrn } from '../caller.ts';
import type { Session, SessionAuthentication } from '../session.ts';

export interface JwtClaimNames {
  /** The effective identity (a Globus identity id or URN). Default `sub`. */
  identity?: string;
  /** Linked identities, an array of ids or URNs. Default `identity_set`. */
  identities?: string;
  /** Granted scopes, a space-separated string or an array. Default `scope` (then `scp`). */
  scope?: string;
  /** Group ids or URNs. Default `groups`. */
  groups?: string;
}

/** What a verified token resolves to; this, never the token, is what the cache holds. */
export interface VerifiedToken {
  identity: string;
  identities: string[];
  scopes: string[];
  groups: string[];
  /**
   * The login the token comes from, from the OpenID Connect claims `amr` (multi-factor when it
   * lists `mfa`, RFC 8176), `auth_time` and `preferred_username` (or `username`): what session
   * requirements other than policies are checked against. A JWT carries no policy evaluation.
   */
  session: Session;
}

/** A Globus identity id. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTITY_PREFIX = 'urn:globus:auth:identity:';
const GROUP_PREFIX = 'urn:globus:groups:id:';

/**
 * A Globus identity id (a UUID) or its URN, as the bare id in lower case (ids are
 * case-insensitive, authorization compares exactly); undefined for anything else: another kind
 * of URN, garbage. Also what globus-action-provider/dev mints only for, so its tokens pass here.
 */
export function identityId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.startsWith(IDENTITY_PREFIX) ? value.slice(IDENTITY_PREFIX.length) : value;
  return UUID.test(id) ? id.toLowerCase() : undefined;
}

/** The same, as the URN. */
function identityOf(value: unknown): string | undefined {
  const id = identityId(value);
  return id === undefined ? undefined : identityUrn(id);
}

/**
 * A group id or URN, as the URN; undefined for a URN of another kind, which must not pass for a
 * group. Bare names are kept (an issuer may put group names here): prefixed, they can match
 * nothing but a group.
 */
export function groupOf(value: string): string | undefined {
  if (value === '') return undefined;
  if (!value.startsWith('urn:')) return groupUrn(value);
  return value.startsWith(GROUP_PREFIX) && value.length > GROUP_PREFIX.length ? value : undefined;
}

function scopesOf(payload: JWTPayload, claimNames: Required<JwtClaimNames>): string[] {
  const raw = payload[claimNames.scope] ?? (claimNames.scope === 'scope' ? payload['scp'] : undefined);
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  return Array.isArray(raw) ? raw.map(String) : [];
}

/**
 * What the claims say about the caller; null (the token is refused) without a valid identity,
 * or when a linked identity or a group is not one.
 *
 * @example
 * ```ts
 * fromClaims({ sub: '6ac8...' }, { identity: 'sub', identities: 'identity_set', scope: 'scope', groups: 'groups' })
 * ```
 */
export function fromClaims(payload: JWTPayload, claimNames: Required<JwtClaimNames>): VerifiedToken | null {
  const identity = identityOf(payload[claimNames.identity]);
  if (identity === undefined) return null;
  const linked = payload[claimNames.identities] ?? [];
  if (!Array.isArray(linked)) return null;
  const identities = [identity];
  for (const entry of linked) {
    const other = identityOf(entry);
    if (other === undefined) return null;
    identities.push(other);
  }
  const rawGroups = payload[claimNames.groups] ?? [];
  if (!Array.isArray(rawGroups)) return null;
  const groups: string[] = [];
  for (const entry of rawGroups) {
    const group = typeof entry === 'string' ? groupOf(entry) : undefined;
    if (group === undefined) return null;
    groups.push(group);
  }
  return { identity, identities, scopes: scopesOf(payload, claimNames), groups, session: sessionOf(identity, payload) };
}

/** The one login a JWT speaks of, made once per verified token (the cache holds it). */
function sessionOf(identity: string, payload: JWTPayload): Session {
  const { amr, auth_time: time } = payload;
  const username = payload['preferred_username'] ?? payload['username'];
  const login: SessionAuthentication = {
    identity,
    mfa: Array.isArray(amr) && amr.includes('mfa'),
    ...(typeof time === 'number' && Number.isFinite(time) && { time: time * 1000 }),
    ...(typeof username === 'string' && username !== '' && { username }),
  };
  return { authentications: [login], policies: {} };
}
