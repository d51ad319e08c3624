/**
 * @module auth/globus/environments: where Globus services live and the wire constants both
 * `globusAuth` and the testing kit's fake Globus speak, defined once so the two cannot drift apart.
 */

/** Where Globus services live, per environment (as the official SDKs map them). */
export const GLOBUS_ENVIRONMENTS = {
  production: { auth: 'https://auth.globus.org', groups: 'https://groups.api.globus.org' },
  preview: { auth: 'https://auth.preview.globus.org', groups: 'https://groups.api.preview.globuscs.info' },
  sandbox: { auth: 'https://auth.sandbox.globuscs.info', groups: 'https://groups.api.sandbox.globuscs.info' },
  integration: {
    auth: 'https://auth.integration.globuscs.info',
    groups: 'https://groups.api.integration.globuscs.info',
  },
  test: { auth: 'https://auth.test.globuscs.info', groups: 'https://groups.api.test.globuscs.info' },
  staging: { auth: 'https://auth.staging.globuscs.info', groups: 'https://groups.api.staging.globuscs.info' },
} as const;

export type GlobusEnvironment = keyof typeof GLOBUS_ENVIRONMENTS;

/**
 * The scope of the dependent token that reads the caller's groups; its resource server,
 * `resourceServer(GROUPS_SCOPE)`, is `groups.api.globus.org`.
 *
 * @example
 * ```ts
 * const groupsToken = await caller.tokenFor(GROUPS_SCOPE)
 * ```
 */
export const GROUPS_SCOPE = 'urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships';

/** The grant type that trades a caller's token for dependent tokens (RFC 8693 style, Globus-named). */
export const DEPENDENT_TOKEN_GRANT = 'urn:globus:auth:grant_type:dependent_token';

/** The OAuth error Globus Auth answers (403) when a dependent scope lacks the user's consent. */
export const DEPENDENT_CONSENT_REQUIRED = 'dependent_consent_required';

/** Globus Auth: token introspection (form POST, HTTP Basic client credentials). */
export const INTROSPECT_PATH = '/v2/oauth2/token/introspect';
/** Globus Auth: the token endpoint, where the dependent token and refresh token grants are asked for. */
export const TOKEN_PATH = '/v2/oauth2/token';
/** Globus Auth: token revocation (RFC 7009: form POST of `token`, HTTP Basic client credentials). */
export const REVOKE_PATH = '/v2/oauth2/token/revoke';
/** Globus Groups: the caller's groups (GET with a dependent Groups token). */
export const MY_GROUPS_PATH = '/v2/groups/my_groups';

const URN_SCOPE = /^urn:globus:auth:scope:([^:]+):/;
const URL_SCOPE = /^https:\/\/auth\.globus\.org\/scopes\/([^/]+)\//;

/**
 * The resource server a scope belongs to, as Globus names them: the host in
 * `urn:globus:auth:scope:<host>:<name>`, the client id in `https://auth.globus.org/scopes/<id>/<name>`;
 * anything else is taken to name a resource server already.
 *
 * @example
 * ```ts
 * resourceServer(GROUPS_SCOPE) // 'groups.api.globus.org'
 * ```
 */
export function resourceServer(scope: string): string {
  return URN_SCOPE.exec(scope)?.[1] ?? URL_SCOPE.exec(scope)?.[1] ?? scope;
}
