/**
 * @module dev/auth: `devAuth()`, DEV MODE: a signing key made on first start (and kept in a
 * directory, so tokens outlive a restart), a `jwtAuth` that trusts only it, and tokens for a
 * made-up Globus identity, so a provider runs and can be called without Globus.
 */
import { type CryptoKey, SignJWT } from 'jose';
import { jwtAuth } from '../auth/jwt.ts';
import type { Authenticator } from '../auth/types.ts';
import { DEV_MODE } from './brand.ts';
import { DevKeyError } from './errors.ts';
import { type DevKeyMaterial, generateKeyMaterial, parseKeyMaterial, serializeKeyMaterial, signingKey } from './key.ts';
import { type DevMintOptions, isScope, resolveMint } from './mint.ts';

/**
 * The `iss` of every dev token. A URN no real issuer uses and no real deployment trusts:
 * Globus Auth's tokens are opaque and introspected, and a `jwtAuth` of your own trusts only its
 * issuer's keys (a dev key is made on your machine) and, given `issuer`, refuses any other `iss`,
 * so a dev token is refused everywhere but by a `devAuth` authenticator.
 */
export const DEV_ISSUER = 'urn:globus-action-provider:dev';

export interface DevAuthOptions {
  /**
   * Where the key is kept (`<dir>/dev-key.json`, mode 0600; the directory is made, 0700, if
   * missing). Without it the key lives in memory: its tokens die with the process, and
   * `globus-action-provider token` cannot mint any.
   */
  dir?: string;
  /**
   * The provider's scope, granted by tokens minted without one. With `dir`, it is recorded
   * there (`dev-scope.json`) so the `token` command mints tokens for it; without it, the
   * recorded scope is the default.
   */
  scope?: string;
  /** Make a key when `dir` has none (default true). `false` loads only: no key is a `DevKeyError`. */
  create?: boolean;
  /** Milliseconds since the epoch, for minting and verifying; injectable for tests. */
  clock?: () => number;
}

export interface DevAuth {
  /** A `jwtAuth` trusting this key and `DEV_ISSUER` only; `createActionProvider` logs a DEV MODE warning for it. */
  readonly auth: Authenticator;
  /** The made-up identity (a UUID; the caller is `urn:globus:auth:identity:<it>`), the same across restarts. */
  readonly identity: string;
  readonly issuer: typeof DEV_ISSUER;
  /** The scope tokens are minted for by default: `scope`, or the one recorded in `dir`. */
  readonly scope: string | undefined;
  /** The directory the key is kept in (as given), or undefined for a key in memory. */
  readonly dir: string | undefined;
  /** The key file, or undefined for a key in memory. */
  readonly keyFile: string | undefined;
  /** A token signed by the key (for the dev identity and scope unless told otherwise, valid an hour). */
  mint(options?: DevMintOptions): Promise<string>;
}

function fail(message: string): never {
  throw new TypeError(`devAuth: ${message}`);
}

function checkOptions(options: DevAuthOptions): void {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === ''))
    fail('dir must be a non-empty path');
  if (options.create !== undefined && typeof options.create !== 'boolean') fail('create must be a boolean');
  if (options.clock !== undefined && typeof options.clock !== 'function') fail('clock must be a function');
  if (options.create === false && options.dir === undefined) fail('create: false needs a dir to load from');
  if (options.scope !== undefined && !isScope(options.scope))
    fail('scope must be a non-empty string of space-separated scopes');
}

/** The key in `dir`: loaded, made when absent (unless `create` is false), refused when unusable. */
async function keyIn(
  dir: string,
  create: boolean,
): Promise<{ material: DevKeyMaterial; privateKey: CryptoKey; file: string }> {
  const files = await import('./files.ts');
  const file = files.keyPath(dir);
  let text = await files.readKeyFile(dir);
  if (text === undefined) {
    if (!create)
      throw new DevKeyError(
        'ERR_DEV_KEY_MISSING',
        file,
        `dev mode: there is no dev key in ${dir} (start the provider in dev mode once to make one, or point to its directory)`,
      );
    text = await files.createKeyFile(dir, serializeKeyMaterial(await generateKeyMaterial()));
  }
  const invalid = (problem: string) =>
    new DevKeyError(
      'ERR_DEV_KEY_INVALID',
      file,
      `dev mode: ${file} is not a usable dev key: ${problem}. Restore it, or delete it to make a new key (tokens minted with the old one then stop working).`,
    );
  const material = parseKeyMaterial(text);
  if ('problem' in material) throw invalid(material.problem);
  const privateKey = await signingKey(material);
  if ('problem' in privateKey) throw invalid(privateKey.problem);
  return { material, privateKey, file };
}

/** A key that lives as long as this process. */
async function keyInMemory(): Promise<{ material: DevKeyMaterial; privateKey: CryptoKey; file: undefined }> {
  const material = await generateKeyMaterial();
  const privateKey = await signingKey(material);
  if ('problem' in privateKey) throw new Error(`dev mode: a new key failed its own check (${privateKey.problem})`);
  return { material, privateKey, file: undefined };
}

/** The scope to mint for by default, recording a given one in `dir`. */
async function scopeIn(dir: string, scope: string | undefined): Promise<string | undefined> {
  const files = await import('./files.ts');
  const recorded = await files.readScopeFile(dir);
  if (scope === undefined) return recorded;
  if (scope !== recorded) await files.writeScopeFile(dir, scope);
  return scope;
}

/**
 * DEV MODE ONLY: an authenticator for tokens you mint yourself, so a provider can be run and
 * called without Globus. Tokens are for a made-up identity unless you name another; they
 * carry `iss: urn:globus-action-provider:dev`, which nothing but this authenticator trusts.
 * A key file that cannot be read or parsed is a `DevKeyError`, never silently replaced; so is one
 * someone else could have chosen or can read (a symbolic link, another user's file, a file group
 * or others may read or write).
 *
 * @example
 * ```ts
 * import { devAuth, devBanner } from 'globus-action-provider/dev'
 *
 * const dev = await devAuth({ dir: '.data', scope: MY_SCOPE })
 * const provider = createActionProvider({ ...options, auth: dev.auth })
 * const { url } = await serve(provider, { port: 8080 })
 * console.log(devBanner({ url, token: await dev.mint(), dir: dev.dir, title: 'My provider' }))
 * ```
 */
export async function devAuth(options: DevAuthOptions = {}): Promise<DevAuth> {
  checkOptions(options);
  const { dir, clock = Date.now } = options;
  const { material, privateKey, file } =
    dir === undefined ? await keyInMemory() : await keyIn(dir, options.create ?? true);
  const given = options.scope?.trim();
  const scope = dir === undefined ? given : await scopeIn(dir, given);
  const auth: Authenticator & { [DEV_MODE]: true } = {
    ...jwtAuth({
      jwks: { keys: [{ ...material.publicJwk, alg: 'ES256', use: 'sig' }] },
      issuer: DEV_ISSUER,
      algorithms: ['ES256'],
      clock,
    }),
    [DEV_MODE]: true,
  };
  return {
    auth,
    identity: material.identity,
    issuer: DEV_ISSUER,
    scope,
    dir,
    keyFile: file,
    mint: async (mintOptions) => {
      const claims = resolveMint(mintOptions, { identity: material.identity, scope });
      const now = Math.floor(clock() / 1000);
      return new SignJWT({
        scope: claims.scope,
        ...(claims.identitySet ? { identity_set: claims.identitySet } : {}),
        ...(claims.groups ? { groups: claims.groups } : {}),
        // The login, as jwtAuth reads it for session requirements.
        amr: claims.mfa ? ['pwd', 'mfa'] : ['pwd'],
        auth_time: now,
        ...(claims.username ? { preferred_username: claims.username } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setSubject(claims.sub)
        .setIssuedAt(now)
        .setExpirationTime(now + claims.expiresIn)
        .sign(privateKey);
    },
  };
}
