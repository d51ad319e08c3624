/**
 * @module examples/auth: how the example entries pick their authenticator from the environment
 * (process.env, or a Worker's bindings):
 * - GLOBUS_CLIENT_ID + GLOBUS_CLIENT_SECRET: Globus Auth (honouring GLOBUS_SDK_ENVIRONMENT and
 *   GLOBUS_SDK_SERVICE_URL_AUTH / _GROUPS);
 * - JWT_JWKS (a JSON Web Key Set, with optional JWT_ISSUER): JWTs from your own issuer;
 * - neither: DEV MODE (examples/dev-auth.ts, with globus-action-provider/dev; not on Workers).
 */
import { type Authenticator, globusAuth, globusAuthOptionsFromEnv, jwtAuth } from 'globus-action-provider';
import type { JSONWebKeySet } from 'jose';
import { ECHO_SCOPE } from './echo.ts';

export interface ExampleAuth {
  auth: Authenticator;
  scope: string;
  /** Only in dev mode: a token for the made-up identity, and where its key is kept. */
  dev?: { token: string; dir: string };
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

/** Where the examples keep their files (the SQLite store, the dev key): DATA_DIR, default `.data`. */
export function dataDirFromEnv(env: Record<string, unknown>): string {
  return typeof env['DATA_DIR'] === 'string' && env['DATA_DIR'] !== '' ? env['DATA_DIR'] : '.data';
}
