/**
 * @module globus-action-provider/dev: DEV MODE, a provider you can run and call without Globus
 * (Node, Bun, Deno): `devAuth()` (a key kept in a directory, the authenticator trusting it,
 * tokens for a made-up identity) and `devBanner()` (what to print at start). What keeps it out
 * of production: its issuer (`DEV_ISSUER`) is trusted by nothing else, so a provider shipped
 * with it refuses every real caller; `createActionProvider` logs a DEV MODE warning for it.
 */

export { DEV_ISSUER, type DevAuth, type DevAuthOptions, devAuth } from './auth.ts';
export { type DevBannerOptions, devBanner } from './banner.ts';
export { DevKeyError, type DevKeyErrorCode } from './errors.ts';
export type { DevMintOptions } from './mint.ts';
