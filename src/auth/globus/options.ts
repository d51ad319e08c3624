/**
 * @module auth/globus/options: what `globusAuth` accepts, read from the environment by
 * `globusAuthOptionsFromEnv` and checked up front by `resolveGlobusAuthOptions`.
 */
import type { TtlCache } from '../../cache.ts';
import { basicCredentials, type DependentToken, type Introspection } from './client.ts';
import { GLOBUS_ENVIRONMENTS, type GlobusEnvironment } from './environments.ts';

export interface GlobusAuthCaches {
  /** Active tokens' introspections (and inactive ones too, unless `inactive` is given). */
  introspection?: TtlCache<Introspection>;
  /**
   * Inactive (bogus, expired, revoked) tokens' introspections. By default a per-instance cache a
   * tenth the size of the others, so that distinct bogus tokens evict only one another; when
   * only `introspection` is given, they go there as before.
   */
  inactive?: TtlCache<Introspection>;
  dependentTokens?: TtlCache<DependentToken[]>;
  groups?: TtlCache<readonly string[]>;
}

export interface GlobusAuthOptions {
  /** The provider's Globus Auth client id. */
  clientId: string;
  /** The provider's client secret. */
  clientSecret: string;
  /** `production` (default), `sandbox`, `preview`, ... like GLOBUS_SDK_ENVIRONMENT. */
  environment?: GlobusEnvironment;
  /** Base URL of Globus Auth, overriding the environment (like GLOBUS_SDK_SERVICE_URL_AUTH). */
  authUrl?: string;
  /** Base URL of Globus Groups (like GLOBUS_SDK_SERVICE_URL_GROUPS). */
  groupsUrl?: string;
  /**
   * One request's budget for Globus, in ms: introspection, dependent grant, Groups and retries
   * together (time spent waiting on Globus; a `tokenFor` a callback calls later gets what is
   * left). Default 10,000.
   */
  timeout?: number;
  /**
   * Introspections outstanding at once per instance; one more token to introspect is answered
   * 503 with `Retry-After: 1` without calling Globus. Identical tokens share one. Default 100.
   */
  maxConcurrentIntrospections?: number;
  /**
   * When groups cannot be read while a decision needs them: `error` answers 503 (default),
   * `empty` treats the caller as in no group, as the Python toolkit does.
   */
  groupsFailure?: 'error' | 'empty';
  /** Per-instance caches by default; pass shared ones to share them between instances. */
  caches?: GlobusAuthCaches;
  /** Entries per default cache (the inactive one holds a tenth). Default 10,000. */
  cacheSize?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /**
   * `provider.health()` checks the client credentials with Globus Auth at most once per this many
   * ms, however often it is asked (each probe of every instance would otherwise be a call to
   * Globus). Default 30,000; at least 1,000.
   */
  healthInterval?: number;
}

/** The options once checked, with every default filled in (caches excepted: the factory makes those). */
export interface ResolvedGlobusAuthOptions {
  /** The client's `Authorization` header, made once. */
  credentials: string;
  authUrl: string;
  groupsUrl: string;
  timeout: number;
  maxConcurrentIntrospections: number;
  groupsFailure: 'error' | 'empty';
  fetch: typeof fetch;
  clock: () => number;
  cacheSize: number;
  healthInterval: number;
}

const MAX_TIMEOUT = 2_147_483_647;

/**
 * Options for `globusAuth` from environment variables (process.env, or a Worker's bindings);
 * undefined unless both GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET are set.
 *
 * @example
 * ```ts
 * const options = globusAuthOptionsFromEnv(process.env)
 * const auth = options === undefined ? devAuth() : globusAuth(options)
 * ```
 */
export function globusAuthOptionsFromEnv(env: object): GlobusAuthOptions | undefined {
  // Any object: process.env, Deno.env.toObject(), or a Worker's typed `Env` (an interface
  // without an index signature, which Record<string, unknown> would refuse).
  const vars = env as Record<string, unknown>;
  const str = (name: string) =>
    typeof vars[name] === 'string' && vars[name] !== '' ? (vars[name] as string) : undefined;
  const clientId = str('GLOBUS_CLIENT_ID');
  const clientSecret = str('GLOBUS_CLIENT_SECRET');
  if (clientId === undefined || clientSecret === undefined) return undefined;
  const environment = str('GLOBUS_SDK_ENVIRONMENT');
  const authUrl = str('GLOBUS_SDK_SERVICE_URL_AUTH');
  const groupsUrl = str('GLOBUS_SDK_SERVICE_URL_GROUPS');
  return {
    clientId,
    clientSecret,
    ...(environment === undefined ? {} : { environment: environment as GlobusEnvironment }),
    ...(authUrl === undefined ? {} : { authUrl }),
    ...(groupsUrl === undefined ? {} : { groupsUrl }),
  };
}

function baseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`globusAuth: ${name} must be an absolute URL`);
  }
  return url.href.replace(/\/+$/, '');
}

/** `value` if it is a positive whole number, else a TypeError naming the option. */
function count(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`globusAuth: ${name} must be a positive whole number`);
  return value;
}

/** Each cache given must be one (get, set, delete), named in the error if not. */
function checkCaches(caches: unknown): void {
  if (caches === undefined) return;
  if (typeof caches !== 'object' || caches === null) throw new TypeError('globusAuth: caches must be an object');
  for (const [name, cache] of Object.entries(caches)) {
    const methods = cache as Partial<Record<'get' | 'set' | 'delete', unknown>> | null;
    if (cache === undefined) continue;
    if (typeof methods?.get !== 'function' || typeof methods.set !== 'function' || typeof methods.delete !== 'function')
      throw new TypeError(`globusAuth: caches.${name} must be a TtlCache (get, set, delete)`);
  }
}

/** Checks `globusAuth`'s options, throwing a `TypeError` that names the bad one, and fills in defaults. */
export function resolveGlobusAuthOptions(options: GlobusAuthOptions): ResolvedGlobusAuthOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('globusAuth: options must be an object');
  const { clientId, clientSecret } = options;
  if (typeof clientId !== 'string' || clientId === '') throw new TypeError('globusAuth: clientId is required');
  if (typeof clientSecret !== 'string' || clientSecret === '')
    throw new TypeError('globusAuth: clientSecret is required');
  const environment = options.environment ?? 'production';
  // Object.hasOwn: 'toString' or '__proto__' are not environments.
  const hosts = Object.hasOwn(GLOBUS_ENVIRONMENTS, environment) ? GLOBUS_ENVIRONMENTS[environment] : undefined;
  if (hosts === undefined) {
    throw new TypeError(`globusAuth: environment must be one of ${Object.keys(GLOBUS_ENVIRONMENTS).join(', ')}`);
  }
  const authUrl = baseUrl(options.authUrl ?? hosts.auth, 'authUrl');
  const groupsUrl = baseUrl(options.groupsUrl ?? hosts.groups, 'groupsUrl');
  const timeout = options.timeout ?? 10_000;
  // Timers hold at most 2^31-1 ms (Node fires a longer AbortSignal.timeout after 1 ms); a string would concatenate.
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_TIMEOUT) {
    throw new TypeError(`globusAuth: timeout must be a positive number of ms, at most ${MAX_TIMEOUT}`);
  }
  const groupsFailure = options.groupsFailure ?? 'error';
  if (groupsFailure !== 'error' && groupsFailure !== 'empty')
    throw new TypeError("globusAuth: groupsFailure must be 'error' or 'empty'");
  checkCaches(options.caches);
  const healthInterval = options.healthInterval ?? 30_000;
  if (typeof healthInterval !== 'number' || !(healthInterval >= 1_000 && healthInterval <= MAX_TIMEOUT)) {
    throw new TypeError(`globusAuth: healthInterval must be a number of ms from 1000 to ${MAX_TIMEOUT}`);
  }
  return {
    credentials: basicCredentials(clientId, clientSecret),
    authUrl,
    groupsUrl,
    timeout,
    maxConcurrentIntrospections: count(options.maxConcurrentIntrospections, 'maxConcurrentIntrospections', 100),
    groupsFailure,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    clock: options.clock ?? Date.now,
    cacheSize: count(options.cacheSize, 'cacheSize', 10_000),
    healthInterval,
  };
}
