/** @module auth/caller: builds a Caller whose token stays out of logs and whose groups load once. */
import { ActionError } from '../errors.ts';
import type { Caller } from './types.ts';

export interface CallerInit {
  identity: string;
  identities?: readonly string[];
  scopes?: readonly string[];
  token: string;
  /** Loads the caller's group URNs; called at most once, and only when a decision needs groups. */
  groups?: () => Promise<readonly string[]>;
  tokenFor?: (scope: string) => Promise<string>;
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

/** Make a Caller. The token is a non-enumerable property, so serialising the caller omits it. */
export function createCaller(init: CallerInit): Caller {
  const identities = [...new Set([init.identity, ...(init.identities ?? [])])];
  const loadGroups = init.groups;
  let groups: Promise<readonly string[]> | undefined;
  const caller = {
    identity: init.identity,
    identities,
    scopes: [...(init.scopes ?? [])],
    groups(): Promise<readonly string[]> {
      if (loadGroups === undefined) return Promise.resolve([]);
      groups ??= loadGroups().catch((error: unknown) => {
        groups = undefined; // a failure is not memoised: the next decision may try again
        throw error;
      });
      return groups;
    },
    tokenFor:
      init.tokenFor ??
      ((scope: string): Promise<string> =>
        Promise.reject(new ActionError('NotImplemented', `This authenticator cannot obtain tokens for ${scope}`))),
  };
  Object.defineProperty(caller, 'token', { value: init.token, enumerable: false });
  return caller as unknown as Caller;
}
