/** @module auth/caller: builds a Caller whose token stays out of logs and whose groups load once. */
import { ActionError } from '../http/errors.ts';
import type { Session } from './session.ts';
import type { Caller } from './types.ts';

export interface CallerInit {
  identity: string;
  identities?: readonly string[];
  scopes?: readonly string[];
  token: string;
  /** The caller's group URNs when already known (e.g. from a JWT claim). */
  knownGroups?: readonly string[];
  /** Loads the caller's group URNs; called at most once, and only when a decision needs groups. */
  groups?: () => Promise<readonly string[]>;
  tokenFor?: (scope: string) => Promise<string>;
  /** Drops the cached dependent tokens of this token and fetches fresh ones (see Caller.renewTokens). */
  renewTokens?: () => Promise<void>;
  /** The caller's session, with Globus's evaluation of `policies` (see Caller.session). */
  session?: (policies: readonly string[]) => Promise<Session | undefined>;
  /** The session when already known (a JWT's own login), instead of `session`. */
  knownSession?: Session;
}

const IDENTITY_PREFIX = 'urn:globus:auth:identity:';
const GROUP_PREFIX = 'urn:globus:groups:id:';

/** `abc` → `urn:globus:auth:identity:abc`; a URN is kept as it is. */
export function identityUrn(id: string): string {
  return id.startsWith('urn:') ? id : IDENTITY_PREFIX + id;
}

/** `abc` → `urn:globus:groups:id:abc`; a URN is kept as it is. */
export function groupUrn(id: string): string {
  return id.startsWith('urn:') ? id : GROUP_PREFIX + id;
}

const noTokens = (scope: string): Promise<string> =>
  Promise.reject(new ActionError('NotImplemented', `This authenticator cannot obtain tokens for ${scope}`));

/**
 * The token lives in a private field behind a prototype getter, so `JSON.stringify`, spreading
 * and `util.inspect` of a caller leave it out. (A class, not a closure per request: this is on
 * every authenticated request's path.)
 */
class AuthenticatedCaller implements Caller {
  readonly identity: string;
  readonly identities: readonly string[];
  readonly scopes: readonly string[];
  readonly #token: string;
  readonly #loadGroups: (() => Promise<readonly string[]>) | undefined;
  readonly #tokenFor: (scope: string) => Promise<string>;
  readonly #renewTokens: (() => Promise<void>) | undefined;
  readonly #session: ((policies: readonly string[]) => Promise<Session | undefined>) | Session | undefined;
  #groups: Promise<readonly string[]> | undefined;

  constructor(init: CallerInit) {
    this.identity = init.identity;
    const linked = init.identities;
    this.identities =
      linked === undefined || linked.length === 0 ? [init.identity] : [...new Set([init.identity, ...linked])];
    this.scopes = init.scopes ?? [];
    this.#token = init.token;
    this.#loadGroups = init.groups;
    this.#tokenFor = init.tokenFor ?? noTokens;
    this.#renewTokens = init.renewTokens;
    this.#session = init.session ?? init.knownSession;
    if (init.knownGroups !== undefined) this.#groups = Promise.resolve(init.knownGroups);
  }

  get token(): string {
    return this.#token;
  }

  groups(): Promise<readonly string[]> {
    if (this.#groups !== undefined) return this.#groups;
    const load = this.#loadGroups;
    const groups =
      load === undefined
        ? Promise.resolve([])
        : load().catch((error: unknown) => {
            this.#groups = undefined; // a failure is not memoised: the next decision may try again
            throw error;
          });
    this.#groups = groups;
    return groups;
  }

  tokenFor(scope: string): Promise<string> {
    return this.#tokenFor(scope);
  }

  async renewTokens(): Promise<void> {
    await this.#renewTokens?.();
  }

  session(policies: readonly string[] = []): Promise<Session | undefined> {
    const session = this.#session;
    return typeof session === 'function' ? session(policies) : Promise.resolve(session);
  }
}

/** Make a Caller. Serialising it omits the token. */
export function createCaller(init: CallerInit): Caller {
  return new AuthenticatedCaller(init);
}
