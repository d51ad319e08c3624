/**
 * @module examples/auth: how the example entries pick their authenticator from the environment
 * (process.env, or a Worker's bindings):
 * - GLOBUS_CLIENT_ID + GLOBUS_CLIENT_SECRET: Globus Auth (honouring GLOBUS_SDK_ENVIRONMENT and
 *   GLOBUS_SDK_SERVICE_URL_AUTH / _GROUPS);
 * - JWT_JWKS (a JSON Web Key Set, with optional JWT_ISSUER): JWTs from your own issuer;
 * - neither: DEV MODE (examples/dev-auth.ts, not on Workers), a key made on first start (kept
 *   in DATA_DIR, default `.data`) and a token printed for you.
 */
import type { JSONWebKeySet } from 'jose';
import { type Authenticator, globusAuth, globusAuthOptionsFromEnv, jwtAuth } from '../src/index.ts';
import { ECHO_SCOPE } from './echo.ts';

export interface ExampleAuth {
  auth: Authenticator;
  scope: string;
  /** Only in dev mode: a token for a made-up identity. */
  devToken?: string;
}

/** Globus Auth or your own JWT issuer, as configured; undefined when neither is (dev-auth.ts adds dev mode). */
export function configuredAuth(env: Record<string, unknown>): ExampleAuth | undefined {
  const scope = scopeFromEnv(env);
  const globus = globusAuthOptionsFromEnv(env);
  if (globus) return { auth: globusAuth(globus), scope };
  if (typeof env['JWT_JWKS'] === 'string') {
    const issuer = typeof env['JWT_ISSUER'] === 'string' ? { issuer: env['JWT_ISSUER'] } : {};
    return { auth: jwtAuth({ jwks: JSON.parse(env['JWT_JWKS']) as JSONWebKeySet, ...issuer }), scope };
  }
  return undefined;
}

/** The provider scope the examples use: PROVIDER_SCOPE, or a placeholder. */
export function scopeFromEnv(env: Record<string, unknown>): string {
  return typeof env['PROVIDER_SCOPE'] === 'string' ? env['PROVIDER_SCOPE'] : ECHO_SCOPE;
}

/** What an entry prints once it listens. */
export function banner(url: string, mode: ExampleAuth): string {
  if (mode.devToken === undefined) return `Echo provider listening on ${url}/ (scope ${mode.scope})`;
  return `
  DEV MODE: tokens are signed by a key kept in the data directory and trusted by nobody else.
  Echo provider listening on ${url}/

  Try it:
  curl -s -X POST ${url}/run -H 'Authorization: Bearer ${mode.devToken}' -H 'Content-Type: application/json' -d '{"request_id": "1", "body": {"input_string": "hello"}}'
`;
}
