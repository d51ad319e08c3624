/**
 * @module dev/brand: the mark a dev-mode authenticator carries, so `createActionProvider` can
 * warn at creation that it is in dev mode (a registered symbol: it works across copies of the
 * library, and costs the main entry no dev code).
 */
export const DEV_MODE: unique symbol = Symbol.for('globus-action-provider.dev-mode');
