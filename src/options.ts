/**
 * @module options: the options of `createActionProvider` and their resolution, once, at
 * creation: a bad option throws a TypeError naming it, never a request later.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type SessionRequirement, sessionRequirement } from './auth/session.ts';
import type { Authenticator } from './auth/types.ts';
import type { Awaitable } from './awaitable.ts';
import type { ActionContext, EnumerateContext, EnumeratePage, LogContext, RunContext } from './context.ts';
import {
  type DescriptionOptions,
  introspectionDocument,
  type ProviderDescription,
  parseDescription,
} from './description.ts';
import { DEV_MODE } from './dev/brand.ts';
import { timeFormatter } from './lifecycle.ts';
import { atLeast, consoleLogger, type Logger, type LogLevel } from './logger.ts';
import type { ActionStatus, ActionUpdate, JsonObject, LogPage } from './model.ts';
import { type RequestHooks, resolveHooks } from './observe/hooks.ts';
import { instrumentedStore } from './observe/instrumented-store.ts';
import { authTelemetry, type Telemetry } from './observe/telemetry.ts';
import { memoryStore, VOLATILE } from './store/memory.ts';
import type { ActionStore } from './store/types.ts';
import type { TokenKeyOption } from './tokens/keys.ts';
import { type TokenVault, tokenVault } from './tokens/vault.ts';
import { type CompiledInput, compileInput, type InputOption, type JsonSchemaInput } from './validation/input.ts';
import { rejectUnknownKeys } from './validation/known-keys.ts';
import { type WorkerOptions, type WorkerSettings, workerSettings } from './work/settings.ts';
import { type EngineFactory, WORK_ENGINE, type WorkContext } from './work/types.ts';

/**
 * The body type callbacks receive for an `input` option: a schema's output (valibot, zod,
 * ArkType: every Standard Schema carries its types), else a JSON object.
 */
export type InputBody<I> = [I] extends [StandardSchemaV1] ? StandardSchemaV1.InferOutput<I> : JsonObject;

export interface ProviderOptions<I extends InputOption | undefined = InputOption | undefined> {
  description: DescriptionOptions;
  /**
   * The schema of `body`: a valibot, zod 4, ArkType 2 or any other Standard Schema (the body
   * type is inferred), or a JSON Schema (object or JSON text). Default: any object.
   */
  input?: I;
  /**
   * The JSON Schema introspection shows as `input_schema`, when `input` is a schema library's:
   * for one without a Standard JSON Schema converter, or whose conversion fails, or to show
   * something other than the generated schema. Validation still uses `input`.
   */
  inputSchema?: JsonSchemaInput;
  /** Who is calling. Required: there is no anonymous Action Provider. */
  auth: Authenticator;
  /**
   * What the caller's Globus session must include to start or continue an action: an identity
   * from one of `domains`, one of `identities`, a multi-factor login (`mfa`), or satisfying
   * authentication `policies` (a high-assurance policy, say). Checked on run (unmet: a 403 whose
   * body is the Globus Auth requirements error clients prompt the user with) and on resume of an
   * INACTIVE action (unmet: it stays INACTIVE with that error in its details). Reading and
   * stopping (status, log, cancel, release) are left to `monitor_by` and `manage_by`. With
   * `globusAuth`, the session comes with the introspection: no extra call.
   */
  requireSession?: SessionRequirement;
  /**
   * The secret that seals the tokens `keepTokens()` keeps in an action (AES-256-GCM, a key
   * derived with HKDF): at least 32 random bytes as base64 or base64url text
   * (`openssl rand -base64 32`), or a CryptoKey imported for HKDF. A list rotates keys: the first
   * seals, every one opens. Whoever holds it and the store can act as your users: keep it as
   * secret as the client secret. Without it, `keepTokens()` throws.
   */
  tokenKey?: TokenKeyOption;
  /** Where actions live. Default `memoryStore()` (lost on restart; a warning says so once). */
  store?: ActionStore;
  /** Start an action. Return its first status. */
  run: (context: RunContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /**
   * The work of an action `run` left ACTIVE (and of one resumed from INACTIVE), done in the
   * background, durably: taken up again after a crash or restart (`attempt` + 1, `action.state`
   * the last checkpoint), retried with back-off when it throws, cancelled through `signal`.
   * Return the final update (SUCCEEDED, FAILED, or INACTIVE to wait for a resume); throw an
   * ActionError to fail at once with its code. See `worker` for the engine and its timings.
   */
  work?: (context: WorkContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /** How background work runs (concurrency, lease, retries, shutdown grace, engine). */
  worker?: WorkerOptions;
  /** Refresh an action that is not completed yet. Without it, status returns the stored action. */
  status?: (context: ActionContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /** Cancel an action that is not completed yet. Without it, the action is marked FAILED. */
  cancel?: (context: ActionContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /** Resume an action that is not completed yet. Without it, resume answers 501. */
  resume?: (context: ActionContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /** Clean up before a completed action is deleted. */
  release?: (context: ActionContext<InputBody<I>>) => Awaitable<void>;
  /** Log entries of an action. Its presence sets `log_supported`. */
  log?: (context: LogContext<InputBody<I>>) => Awaitable<LogPage>;
  /**
   * Replace the store-backed enumerate (for actions that live elsewhere). Answer the whole list
   * (sent as it is, as one page), or a page, `{ actions, marker }` (see EnumeratePage), to be
   * paged like the store: `context.limit` and `context.marker` say which.
   */
  enumerate?: (context: EnumerateContext) => Awaitable<ActionStatus[] | EnumeratePage>;
  /** Largest request body accepted, in bytes. Default 10 MiB. */
  bodyLimit?: number;
  /**
   * How long a `run` callback may take, in ms. A duplicate request (on another instance) waits
   * up to this long for the first run's answer; an unanswered run older than this is taken as
   * abandoned (its instance died) and run again. An input schema that validates asynchronously
   * gets as long (then the run is answered 503, before anything is stored). Default 60,000.
   */
  runTimeout?: number;
  /** Keep user data out of validation errors. Default true. */
  scrubValidationErrors?: boolean;
  /** Where the provider writes its lines (see Logger for what it writes). Default `consoleLogger(logLevel)`. */
  logger?: Logger;
  /**
   * The least severe lines written: `info` (the default) writes one line per request, `debug`
   * also the reason of each 401 and 403, `warn` only failures, `silent` nothing. With a `logger`
   * of your own and no `logLevel`, every line goes to it and its own level decides.
   */
  logLevel?: LogLevel | 'silent';
  /** Functions called around every request (see RequestHooks): metrics, audit, extra headers, refusals. */
  hooks?: RequestHooks;
  /**
   * Where spans and metrics go: `openTelemetry()` from `globus-action-provider/opentelemetry`,
   * or a Telemetry of your own. Absent: nothing is measured, at no cost.
   */
  telemetry?: Telemetry;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** New action ids. Default `crypto.randomUUID()`. */
  generateId?: () => string;
}

/** The callbacks as the operations call them (bodies are JSON objects once validated). */
export type Callbacks = Required<Pick<ProviderOptions, 'run'>> &
  Pick<ProviderOptions, 'status' | 'cancel' | 'resume' | 'release' | 'log' | 'enumerate' | 'work'>;

/** Background work, when the provider has a `work` callback. */
export interface WorkConfig {
  settings: WorkerSettings;
  engine: EngineFactory;
}

/** Everything the operations need, resolved once per provider. */
export interface ProviderConfig {
  description: ProviderDescription;
  descriptionJson: string;
  acceptedScopes: readonly string[];
  input: CompiledInput;
  auth: Authenticator;
  /** The provider's `requireSession`, checked. */
  session: SessionRequirement | undefined;
  /** The offline tokens actions keep, for a provider with a `tokenKey`. */
  tokens: TokenVault | undefined;
  store: ActionStore;
  callbacks: Callbacks;
  work: WorkConfig | undefined;
  bodyLimit: number;
  runTimeout: number;
  scrub: boolean;
  logger: Logger;
  /** Which lines below warn are written at all (decided once: a line that would be dropped is never built). */
  logLevels: { debug: boolean; info: boolean };
  hooks: RequestHooks | undefined;
  telemetry: Telemetry | undefined;
  clock: () => number;
  /** `formatTime` for this instance: timestamps within one millisecond are formatted once. */
  formatTime: (ms: number) => string;
  generateId: () => string;
}

/** Callbacks: functions when given. */
const CALLBACKS = ['run', 'status', 'cancel', 'resume', 'release', 'log', 'enumerate', 'work'] as const;
const STORE_METHODS = ['create', 'get', 'update', 'delete', 'list', 'deleteExpired'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const LOG_THRESHOLDS: readonly string[] = [...LOG_LEVELS, 'silent'];
const TELEMETRY_METHODS = ['request', 'call', 'cacheLookup', 'work'] as const;

/** Validate and resolve the options. Throws a TypeError naming the offending field. */
/** Every key `ProviderOptions` has: anything else is a mistake (see validation/known-keys.ts). */
const OPTION_KEYS = [
  'description',
  'input',
  'inputSchema',
  'auth',
  'store',
  ...CALLBACKS,
  'worker',
  'tokenKey',
  'requireSession',
  'bodyLimit',
  'runTimeout',
  'scrubValidationErrors',
  'logger',
  'logLevel',
  'hooks',
  'telemetry',
  'clock',
  'generateId',
] as const satisfies readonly (keyof ProviderOptions)[];

export function resolveOptions(options: ProviderOptions): ProviderConfig {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createActionProvider: options must be an object');
  }
  rejectUnknownKeys(options, OPTION_KEYS, 'createActionProvider');
  const d = parseDescription(options.description);
  if (typeof options.run !== 'function') throw new TypeError('run: a run callback is required');
  for (const name of CALLBACKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`${name}: must be a function`);
    }
  }
  if (typeof options.auth?.authenticate !== 'function') {
    throw new TypeError('auth: an Authenticator is required (e.g. jwtAuth(...) or globusAuth(...))');
  }
  const session = sessionRequirement(options.requireSession, 'requireSession');
  if (session !== undefined) options.auth.expectSessions?.(session.policies ?? []);
  const bodyLimit = positiveInteger(options.bodyLimit, 10 * 1024 * 1024, 'bodyLimit: must be a positive integer');
  const runTimeout = positiveInteger(options.runTimeout, 60_000, 'runTimeout: must be a positive integer of ms');
  const scrub = resolveScrub(options.scrubValidationErrors);
  for (const name of ['clock', 'generateId'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`${name}: must be a function`);
    }
  }
  const { logger, logLevels } = resolveLogging(options.logger, options.logLevel);
  const hooks = resolveHooks(options.hooks);
  const telemetry = resolveTelemetry(options.telemetry);
  const store = resolveStore(options.store, logger);
  if ((options.auth as { [DEV_MODE]?: boolean })[DEV_MODE] === true) {
    // Logged wherever the provider runs, whether or not its entry prints a banner.
    logger.warn(
      'DEV MODE: callers are authenticated by tokens signed with a local dev key (issuer urn:globus-action-provider:dev), which Globus never issues: not for production',
    );
  }
  const input = compileInput(options.input, options.inputSchema);
  const description = introspectionDocument(d, {
    input_schema: input.jsonSchema,
    log_supported: options.log !== undefined,
  });
  const work = resolveWork(options, store);
  if (telemetry !== undefined) {
    options.auth.instrument?.(authTelemetry(telemetry));
    const { count } = store;
    const now = options.clock ?? Date.now;
    if (count !== undefined) telemetry.countActions?.(() => count.call(store, now()));
  }
  const { run, status, cancel, resume, release, log, enumerate } = options;
  return {
    description,
    descriptionJson: JSON.stringify(description),
    acceptedScopes: [d.globus_auth_scope, ...d.additional_scopes],
    input,
    auth: options.auth,
    session,
    tokens: tokenVault({ tokenKey: options.tokenKey, auth: options.auth, logger }),
    store: telemetry === undefined ? store : instrumentedStore(store, telemetry),
    callbacks: { run, status, cancel, resume, release, log, enumerate, work: options.work } as Callbacks,
    work,
    bodyLimit,
    runTimeout,
    scrub,
    logger,
    logLevels,
    hooks,
    telemetry,
    clock: options.clock ?? Date.now,
    formatTime: timeFormatter(),
    generateId: options.generateId ?? (() => crypto.randomUUID()),
  };
}

function positiveInteger(value: number | undefined, fallback: number, message: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) throw new TypeError(message);
  return resolved;
}

function resolveScrub(value: boolean | undefined): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new TypeError('scrubValidationErrors: must be a boolean');
  return value ?? true;
}

/**
 * The logger and which of its lower levels are written: `logLevel` (default info) and, when the
 * logger can tell, what it would write anyway. A logger of one's own without `logLevel` gets every
 * line its `enabled()` accepts.
 */
function resolveLogging(
  given: Logger | undefined,
  level: LogLevel | 'silent' | undefined,
): { logger: Logger; logLevels: { debug: boolean; info: boolean } } {
  if (level !== undefined && !LOG_THRESHOLDS.includes(level)) {
    throw new TypeError(`logLevel: must be one of ${LOG_THRESHOLDS.join(', ')}`);
  }
  const threshold = level ?? (given === undefined ? 'info' : 'debug');
  const logger = given ?? consoleLogger(threshold);
  for (const name of LOG_LEVELS) {
    if (typeof logger[name] !== 'function') throw new TypeError(`logger: must have a ${name}() method`);
  }
  if (logger.enabled !== undefined && typeof logger.enabled !== 'function') {
    throw new TypeError('logger: enabled must be a function');
  }
  const on = (at: LogLevel) => atLeast(at, threshold) && (logger.enabled?.(at) ?? true);
  // Below the threshold the provider's lines are dropped here, whatever the logger would do.
  const leveled: Logger =
    given === undefined || threshold === 'debug'
      ? logger
      : {
          debug: on('debug') ? (m, f) => logger.debug(m, f) : () => {},
          info: on('info') ? (m, f) => logger.info(m, f) : () => {},
          warn: atLeast('warn', threshold) ? (m, f) => logger.warn(m, f) : () => {},
          error: atLeast('error', threshold) ? (m, f) => logger.error(m, f) : () => {},
          enabled: on,
        };
  return { logger: leveled, logLevels: { debug: on('debug'), info: on('info') } };
}

function resolveTelemetry(telemetry: Telemetry | undefined): Telemetry | undefined {
  if (telemetry === undefined) return undefined;
  if (typeof telemetry !== 'object' || telemetry === null) throw new TypeError('telemetry: must be an object');
  for (const name of TELEMETRY_METHODS) {
    if (typeof telemetry[name] !== 'function') {
      throw new TypeError(
        `telemetry: must have a ${name}() method (use openTelemetry() from globus-action-provider/opentelemetry)`,
      );
    }
  }
  return telemetry;
}

function resolveStore(store: ActionStore | undefined, logger: Logger): ActionStore {
  const resolved = store ?? memoryStore();
  for (const method of STORE_METHODS) {
    if (typeof resolved[method] !== 'function') throw new TypeError(`store: must implement ${method}()`);
  }
  if ((resolved as { [VOLATILE]?: boolean })[VOLATILE] === true) {
    logger.warn('Actions are kept in memory and lost on restart: pass a durable store in production');
  }
  return resolved;
}

function resolveWork(options: ProviderOptions, store: ActionStore): WorkConfig | undefined {
  if (options.work === undefined) {
    if (options.worker !== undefined) throw new TypeError('worker: has no effect without a work callback');
    return undefined;
  }
  const settings = workerSettings(options.worker);
  const engine = settings.engine ?? (store as { [WORK_ENGINE]?: EngineFactory })[WORK_ENGINE];
  if (engine === undefined) {
    throw new TypeError(
      'work: this store has no engine for background work; pass worker.engine (the memory, SQLite and PostgreSQL stores have their own)',
    );
  }
  return { settings, engine };
}
