/** @module globus-action-provider: the public API (re-exports only). */

export { bearerToken } from './auth/bearer.ts';
export { type CallerInit, createCaller, groupUrn, identityUrn } from './auth/caller.ts';
export { ConsentRequiredError, isConsentRequired } from './auth/consent.ts';
export {
  type AuthorizationParameters,
  AuthorizationRequiredError,
  type AuthRequirement,
  authorizationRequirement,
  consentRequirement,
  isAuthorizationRequired,
  type ReadGare,
  readGare,
} from './auth/gare.ts';
export {
  type DependentToken,
  GLOBUS_ENVIRONMENTS,
  type GlobusAuthCaches,
  type GlobusAuthOptions,
  type GlobusEnvironment,
  GROUPS_SCOPE,
  globusAuth,
  globusAuthOptionsFromEnv,
  type Introspection,
} from './auth/globus/index.ts';
export { type JwtAuthOptions, type JwtClaimNames, jwtAuth, type VerifiedToken } from './auth/jwt.ts';
export type { Session, SessionAuthentication, SessionRequirement } from './auth/session.ts';
export type {
  AuthenticateInput,
  Authenticator,
  AuthHealth,
  Caller,
  OfflineGrants,
  OfflineToken,
} from './auth/types.ts';
export type { Awaitable } from './awaitable.ts';
export { type MemoryCacheOptions, memoryCache, singleFlight, type TtlCache, tokenHash } from './cache.ts';
export type {
  ActionContext,
  ActionRequest,
  CallbackContext,
  EnumerateContext,
  EnumeratePage,
  EnumerateRole,
  LogContext,
  RunContext,
  WaitUntil,
} from './context.ts';
export type { DescriptionOptions, ProviderDescription } from './description.ts';
export type {
  AuthCheck,
  HealthOptions,
  HealthReport,
  HealthStatus,
  StoreCheck,
  WorkCheck,
} from './health.ts';
export {
  ActionError,
  type ActionErrorOptions,
  ERROR_STATUS,
  type ErrorBody,
  type ErrorCode,
  type ErrorStatus,
} from './http/errors.ts';
export { normalisePrefix } from './http/prefix.ts';
export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type PinoLike,
  pinoLogger,
  silentLogger,
} from './logger.ts';
export type {
  ActionRecord,
  ActionRequestEnvelope,
  ActionStatus,
  ActionStatusValue,
  ActionUpdate,
  ActionView,
  JsonObject,
  LogPage,
  StoredRequest,
} from './model.ts';
export type { ErrorInfo, HookResult, RequestHooks, RequestInfo, ResponseInfo } from './observe/hooks.ts';
export { REQUEST_ID_HEADER } from './observe/request-id.ts';
export type {
  AuthTelemetry,
  CallKind,
  RequestEnd,
  RequestStart,
  RequestTelemetry,
  Telemetry,
  TelemetryAttributes,
  WorkEvent,
} from './observe/telemetry.ts';
export type { OpenApiDocument, OpenApiOptions } from './openapi.ts';
export type { ActionList, ActionsApi, ListOptions, OperatorAction } from './operations/actions-api.ts';
export { DEFAULT_ENUMERATE_LIMIT, MAX_ENUMERATE_LIMIT, NEXT_MARKER_HEADER } from './operations/enumerate.ts';
export type { InputBody, ProviderOptions } from './options.ts';
export { type ActionProvider, createActionProvider } from './provider.ts';
export { isProviderPath } from './routes.ts';
export type { UnavailableTest } from './store/failures.ts';
export { type MemoryStoreOptions, memoryStore } from './store/memory.ts';
export {
  type SqlDialect,
  type SqlDriver,
  type SqlResult,
  type SqlStatement,
  type SqlStoreOptions,
  sqlStore,
} from './store/sql.ts';
export { type Sweeper, type SweeperOptions, startSweeper } from './store/sweeper.ts';
export type { ActionPage, ActionQuery, ActionStore, CreateResult, StoreHealth } from './store/types.ts';
export type { TokenKeyOption, TokenSecret } from './tokens/keys.ts';
export type { InputOption, JsonSchemaInput } from './validation/input.ts';
export type { Worker } from './work/runner.ts';
export type { WorkerOptions } from './work/settings.ts';
export { type SqlWorkTables, sqlWorkEngine } from './work/sql.ts';
export {
  type EngineFactory,
  type EngineSettings,
  type EngineWake,
  type LeasedJob,
  type WithWorkEngine,
  WORK_ENGINE,
  WORK_WAKE,
  WorkAborted,
  type WorkAbortReason,
  type WorkCaller,
  type WorkContext,
  type WorkEngine,
  type WorkInfo,
  type WorkProgress,
  type WorkWake,
} from './work/types.ts';
