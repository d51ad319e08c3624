/** @module globus-action-provider: the public API (re-exports only). */
export { createActionProvider, type ActionProvider } from './provider.ts';
export type {
  ActionContext,
  ActionRequest,
  DescriptionOptions,
  EnumerateContext,
  EnumerateRole,
  InputBody,
  LogContext,
  LogPage,
  ProviderDescription,
  ProviderOptions,
  RunContext,
} from './options.ts';
export type { ActionsApi } from './operations.ts';
export type { ActionStatus, ActionUpdate, ActionView } from './actions.ts';
export { ActionError, ERROR_STATUS, type ErrorBody, type ErrorCode } from './errors.ts';
export type { Authenticator, AuthenticateInput, Caller } from './auth/types.ts';
export { createCaller, groupUrn, identityUrn, type CallerInit } from './auth/caller.ts';
export { bearerToken } from './auth/bearer.ts';
export {
  globusAuth,
  globusAuthOptionsFromEnv,
  GLOBUS_ENVIRONMENTS,
  GROUPS_SCOPE,
  type DependentToken,
  type GlobusAuthCaches,
  type GlobusAuthOptions,
  type GlobusEnvironment,
  type Introspection,
} from './auth/globus.ts';
export { ConsentRequiredError, isConsentRequired } from './auth/consent.ts';
export { jwtAuth, type JwtAuthOptions, type JwtClaimNames, type VerifiedToken } from './auth/jwt.ts';
export { memoryStore } from './store/memory.ts';
export { sqlStore, type SqlDialect, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions } from './store/sql.ts';
export { startSweeper, type Sweeper, type SweeperOptions } from './store/sweeper.ts';
export type { ActionPage, ActionQuery, ActionRecord, ActionStore, CreateResult, StoredRequest } from './store/types.ts';
export { memoryCache, singleFlight, tokenHash, type MemoryCacheOptions, type TtlCache } from './cache.ts';
export { consoleLogger, silentLogger, type Logger, type LogFields } from './logger.ts';
export type { ActionStatusValue, JsonObject } from './schemas.ts';
export type { InputOption, JsonSchemaInput } from './input.ts';
