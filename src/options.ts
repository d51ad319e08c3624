/**
 * @module options: the options of createActionProvider, their callback types, and their
 * validation (once, at creation; a bad option throws a TypeError naming it).
 */
import * as v from 'valibot';
import type { ActionStatus, ActionUpdate, ActionView } from './actions.ts';
import type { Authenticator, Caller } from './auth/types.ts';
import type { Awaitable } from './awaitable.ts';
import { isDuration } from './duration.ts';
import { consoleLogger, type Logger } from './logger.ts';
import { type ActionStatusValue, type JsonObject, PRINCIPAL_URN } from './model.ts';
import { memoryStore, VOLATILE } from './store/memory.ts';
import type { ActionStore, StoredRequest } from './store/types.ts';
import { type CompiledInput, compileInput, type InputOption } from './validation/input.ts';

/** The provider description you write; the toolkit adds the rest of the introspection document. */
export interface DescriptionOptions {
  title: string;
  globus_auth_scope: string;
  admin_contact: string;
  synchronous?: boolean;
  subtitle?: string;
  description?: string;
  keywords?: string[];
  /** Who may read the description: `public` (default) or principal URNs. */
  visible_to?: string[];
  /** Who may run: `all_authenticated_users` (default) or principal URNs. */
  runnable_by?: string[];
  administered_by?: string[];
  /** The longest `deadline` accepted, as an ISO 8601 duration. Default `P30D`. */
  maximum_deadline?: string;
  /** Further scopes a token may hold instead of `globus_auth_scope`. Not published. */
  additional_scopes?: string[];
}

/** The introspection document served at `GET /`. */
export interface ProviderDescription {
  types: ['ACTION'];
  api_version: '1.0';
  globus_auth_scope: string;
  title: string;
  subtitle: string | null;
  description: string | null;
  keywords: string[] | null;
  visible_to: string[];
  runnable_by: string[];
  administered_by: string[] | null;
  admin_contact: string;
  synchronous: boolean;
  log_supported: boolean;
  maximum_deadline: string;
  input_schema: JsonObject;
  event_types: null;
}

/** The validated ActionRequest a `run` callback receives, with `body` typed by the input schema. */
export type ActionRequest<TBody> = StoredRequest<TBody>;

export interface RunContext<TBody> {
  request: ActionRequest<TBody>;
  /** The id the toolkit assigned; already stored, so a background job may update it. */
  actionId: string;
  caller: Caller;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /**
   * Keep work going after the response (on Workers, `ctx.waitUntil`; elsewhere the promise
   * simply runs, and a rejection is logged).
   */
  waitUntil(promise: Promise<unknown>): void;
}

export interface ActionContext {
  /** The action, loaded from the store; the caller is already authorized for the operation. */
  action: ActionView;
  caller: Caller;
  signal: AbortSignal;
  /** As in RunContext. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface LogContext extends ActionContext {
  limit: number;
  marker: string | null;
}

export type EnumerateRole = 'creator_id' | 'monitor_by' | 'manage_by';

export interface EnumerateContext {
  caller: Caller;
  statuses: ActionStatusValue[];
  roles: EnumerateRole[];
  signal: AbortSignal;
  waitUntil(promise: Promise<unknown>): void;
}

export interface LogPage {
  entries: JsonObject[];
  has_next_page?: boolean;
  marker?: string | null;
}

/** The body type a `run` callback receives for an `input` option. */
export type InputBody<I> = I extends v.GenericSchema<unknown, infer O> ? O : JsonObject;

export interface ProviderOptions<I extends InputOption = InputOption> {
  description: DescriptionOptions;
  /** The schema of `body`: a valibot schema (the body type is inferred) or a JSON Schema. Default: any object. */
  input?: I;
  /** Who is calling. Required: there is no anonymous Action Provider. */
  auth: Authenticator;
  /** Where actions live. Default `memoryStore()` (lost on restart; a warning says so once). */
  store?: ActionStore;
  /** Start an action. Return its first status. */
  run: (context: RunContext<InputBody<I>>) => Awaitable<ActionUpdate>;
  /** Refresh an action that is not completed yet. Without it, status returns the stored action. */
  status?: (context: ActionContext) => Awaitable<ActionUpdate>;
  /** Cancel an action that is not completed yet. Without it, the action is marked FAILED. */
  cancel?: (context: ActionContext) => Awaitable<ActionUpdate>;
  /** Resume an action that is not completed yet. Without it, resume answers 501. */
  resume?: (context: ActionContext) => Awaitable<ActionUpdate>;
  /** Clean up before a completed action is deleted. */
  release?: (context: ActionContext) => Awaitable<void>;
  /** Log entries of an action. Its presence sets `log_supported`. */
  log?: (context: LogContext) => Awaitable<LogPage>;
  /** Replace the store-backed enumerate (for actions that live elsewhere). */
  enumerate?: (context: EnumerateContext) => Awaitable<ActionStatus[]>;
  /** Largest request body accepted, in bytes. Default 10 MiB. */
  bodyLimit?: number;
  /**
   * How long a `run` callback may take, in ms. A duplicate request (on another instance) waits
   * up to this long for the first run's answer; an unanswered run older than this is taken as
   * abandoned (its instance died) and run again. Default 60,000.
   */
  runTimeout?: number;
  /** Keep user data out of validation errors. Default true. */
  scrubValidationErrors?: boolean;
  logger?: Logger;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** New action ids. Default `crypto.randomUUID()`. */
  generateId?: () => string;
}

/** Everything the operations need, resolved once. */
export interface ProviderConfig {
  description: ProviderDescription;
  descriptionJson: string;
  acceptedScopes: readonly string[];
  input: CompiledInput;
  auth: Authenticator;
  store: ActionStore;
  callbacks: {
    run: (context: RunContext<unknown>) => Awaitable<ActionUpdate>;
    status: ProviderOptions['status'];
    cancel: ProviderOptions['cancel'];
    resume: ProviderOptions['resume'];
    release: ProviderOptions['release'];
    log: ProviderOptions['log'];
    enumerate: ProviderOptions['enumerate'];
  };
  bodyLimit: number;
  runTimeout: number;
  scrub: boolean;
  logger: Logger;
  clock: () => number;
  generateId: () => string;
}

const PRINCIPAL_OR = (special: string) =>
  v.pipe(
    v.string(),
    v.check((s) => s === special || PRINCIPAL_URN.test(s), `must be "${special}" or a principal URN`),
  );
const text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

const DescriptionSchema = v.object({
  title: text(128),
  globus_auth_scope: v.pipe(v.string(), v.minLength(1)),
  admin_contact: v.pipe(v.string(), v.minLength(1)),
  synchronous: v.optional(v.boolean(), false),
  subtitle: v.optional(text(128)),
  description: v.optional(text(4096)),
  keywords: v.optional(v.array(v.string())),
  visible_to: v.optional(v.array(PRINCIPAL_OR('public')), ['public']),
  runnable_by: v.optional(v.array(PRINCIPAL_OR('all_authenticated_users')), ['all_authenticated_users']),
  administered_by: v.optional(v.array(v.pipe(v.string(), v.regex(PRINCIPAL_URN, 'must be a principal URN')))),
  maximum_deadline: v.optional(v.pipe(v.string(), v.check(isDuration, 'must be an ISO 8601 duration')), 'P30D'),
  additional_scopes: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
});

const CALLBACKS = ['run', 'status', 'cancel', 'resume', 'release', 'log', 'enumerate'] as const;

/** Validate and resolve the options. Throws a TypeError naming the offending field. */
export function resolveOptions(options: ProviderOptions): ProviderConfig {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createActionProvider: options must be an object');
  const parsed = v.safeParse(DescriptionSchema, options.description);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = ['description', ...(issue.path ?? []).map((item) => String(item.key))].join('.');
    throw new TypeError(`${path}: ${issue.message}`);
  }
  const d = parsed.output;
  if (typeof options.run !== 'function') throw new TypeError('run: a run callback is required');
  for (const name of CALLBACKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new TypeError(`${name}: must be a function`);
  }
  if (typeof options.auth?.authenticate !== 'function') {
    throw new TypeError('auth: an Authenticator is required (e.g. jwtAuth(...) or globusAuth(...))');
  }
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) throw new TypeError('bodyLimit: must be a positive integer');
  const runTimeout = options.runTimeout ?? 60_000;
  if (!Number.isSafeInteger(runTimeout) || runTimeout < 1)
    throw new TypeError('runTimeout: must be a positive integer of ms');
  if (options.scrubValidationErrors !== undefined && typeof options.scrubValidationErrors !== 'boolean') {
    throw new TypeError('scrubValidationErrors: must be a boolean');
  }
  for (const name of ['clock', 'generateId'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new TypeError(`${name}: must be a function`);
  }
  const logger = options.logger ?? consoleLogger();
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw new TypeError(`logger: must have a ${level}() method`);
  }
  const store = options.store ?? memoryStore();
  for (const method of ['create', 'get', 'update', 'delete', 'list', 'deleteExpired'] as const) {
    if (typeof store[method] !== 'function') throw new TypeError(`store: must implement ${method}()`);
  }
  if ((store as { [VOLATILE]?: boolean })[VOLATILE] === true) {
    logger.warn('Actions are kept in memory and lost on restart: pass a durable store in production');
  }
  const input = compileInput(options.input);
  const description: ProviderDescription = {
    types: ['ACTION'],
    api_version: '1.0',
    globus_auth_scope: d.globus_auth_scope,
    title: d.title,
    subtitle: d.subtitle ?? null,
    description: d.description ?? null,
    keywords: d.keywords ?? null,
    visible_to: d.visible_to,
    runnable_by: d.runnable_by,
    administered_by: d.administered_by ?? null,
    admin_contact: d.admin_contact,
    synchronous: d.synchronous,
    log_supported: options.log !== undefined,
    maximum_deadline: d.maximum_deadline,
    input_schema: input.jsonSchema,
    event_types: null,
  };
  return {
    description,
    descriptionJson: JSON.stringify(description),
    acceptedScopes: [d.globus_auth_scope, ...d.additional_scopes],
    input,
    auth: options.auth,
    store,
    callbacks: {
      run: options.run as ProviderConfig['callbacks']['run'],
      status: options.status,
      cancel: options.cancel,
      resume: options.resume,
      release: options.release,
      log: options.log,
      enumerate: options.enumerate,
    },
    bodyLimit,
    runTimeout,
    scrub: options.scrubValidationErrors ?? true,
    logger,
    clock: options.clock ?? Date.now,
    generateId: options.generateId ?? (() => crypto.randomUUID()),
  };
}
