/**
 * @module health: `provider.health()`: the store, the authenticator's upstream and background
 * work, each checked at once and within a timeout, and the worst of them, as JSON a readiness
 * route answers with.
 */
import type { Authenticator } from './auth/types.ts';
import type { ActionStore, StoreHealth } from './store/types.ts';
import type { WorkerInternals } from './work/runner.ts';

/** As in the IETF health-check draft: `warn` is healthy enough to serve, `fail` is not. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface StoreCheck {
  status: HealthStatus;
  /** How long the store took to answer (or to fail, or to be given up on). */
  latency_ms: number;
  /** For a store with a schema: whether every migration this version needs is applied. */
  migrations?: 'applied' | 'missing';
  error?: string;
}

export interface AuthCheck {
  status: HealthStatus;
  /** Whether the upstream (Globus Auth, the JWKS) answered its last check. */
  reachable?: boolean;
  /** Whether Globus Auth accepted the provider's client credentials. */
  credentials?: 'accepted' | 'rejected';
  /** When the upstream was last checked (checks are reused for a while: `healthInterval`). */
  checked_at?: string;
  error?: string;
}

export interface WorkCheck {
  status: HealthStatus;
  /** Whether this instance takes work (or, on Workers, the platform wakes it). */
  running: boolean;
  /** How long the oldest due work has waited without being taken, where the engine can tell. */
  lag_ms?: number;
  engine: string;
  error?: string;
}

/** What `provider.health()` resolves to; JSON-serialisable, as a readiness route sends it. */
export interface HealthReport {
  /** The worst of the checks. */
  status: HealthStatus;
  checks: {
    store: StoreCheck;
    auth: AuthCheck;
    /** Only for a provider with a `work` callback. */
    work?: WorkCheck;
  };
}

export interface HealthOptions {
  /** Ms each check may take; a check still running then is reported `timed out`. Default 2,000. */
  timeout?: number;
}

/** What the checks look at. */
export interface HealthSources {
  store: ActionStore;
  auth: Authenticator;
  worker: WorkerInternals | undefined;
}

const DEFAULT_TIMEOUT = 2_000;
const MAX_TIMER = 2_147_483_647;
const MAX_ERROR = 200;
/** A store without `health()` is asked for this action: ids are generated UUIDs, so it exists nowhere. */
const PROBE_ID = 'health-check-00000000-0000-0000-0000-000000000000';

/** A check that did not settle within the timeout. */
class TimedOut extends Error {}

function within<T>(work: () => Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut('timed out')), ms);
  });
  // Called inside the race, so a check that throws at once is a rejection too.
  return Promise.race([Promise.resolve().then(work), late]).finally(() => clearTimeout(timer));
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };
const worst = (...statuses: HealthStatus[]): HealthStatus =>
  statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'pass');

/** Credentials a message may carry: a URL's user info, an Authorization value, a `password=` pair. */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;
const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const PASSWORD = /\b(password|passwd|pwd|secret|token)=[^\s&;]*/gi;

/**
 * A short, safe text for `error`: its deepest cause's code and message (the store's 503 says
 * only "unavailable"; its cause says "connect ECONNREFUSED"), without credentials, on one line,
 * at most 200 characters.
 */
export function healthError(error: unknown): string {
  if (error instanceof TimedOut) return 'timed out';
  let code: string | undefined;
  let message: string | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (typeof current === 'string') {
      message = current;
      break;
    }
    if (typeof current !== 'object') break;
    const found = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof found.code === 'string' && found.code !== '') code = found.code;
    if (typeof found.message === 'string' && found.message !== '') message = found.message;
    current = found.cause ?? (Array.isArray(found.errors) ? found.errors[0] : undefined);
  }
  const text =
    message === undefined ? (code ?? 'failed') : code && !message.includes(code) ? `${code}: ${message}` : message;
  const clean = text
    .replace(URL_USERINFO, '$1')
    .replace(AUTHORIZATION, '$1 [redacted]')
    .replace(PASSWORD, '$1=[redacted]')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f\s]+/g, ' ')
    .trim();
  return clean.length > MAX_ERROR ? `${clean.slice(0, MAX_ERROR - 1)}…` : clean;
}

async function storeCheck(store: ActionStore, timeout: number): Promise<StoreCheck> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  const probe = async (): Promise<StoreHealth> => {
    if (store.health !== undefined) return store.health();
    await store.get(PROBE_ID);
    return {};
  };
  try {
    const { migrations } = await within(probe, timeout);
    if (migrations === undefined) return { status: 'pass', latency_ms: latency() };
    return migrations
      ? { status: 'pass', latency_ms: latency(), migrations: 'applied' }
      : { status: 'fail', latency_ms: latency(), migrations: 'missing', error: 'the schema is not migrated' };
  } catch (error) {
    return { status: 'fail', latency_ms: latency(), error: healthError(error) };
  }
}

/**
 * Rejected credentials fail (a misconfigured instance should get no traffic); an unreachable
 * upstream only warns: it is shared, so failing on it would take every instance out at once,
 * while requests already answer 503 for as long as it is down.
 */
async function authCheck(auth: Authenticator, timeout: number): Promise<AuthCheck> {
  const { health } = auth;
  if (health === undefined) return { status: 'pass' };
  try {
    const found = await within(() => health.call(auth), timeout);
    const status = found.credentials === 'rejected' ? 'fail' : found.reachable ? 'pass' : 'warn';
    const at = new Date(found.checkedAt);
    return {
      status,
      reachable: found.reachable,
      ...(found.credentials === undefined ? {} : { credentials: found.credentials }),
      ...(Number.isFinite(at.getTime()) ? { checked_at: at.toISOString() } : {}),
      ...(found.error === undefined ? {} : { error: healthError(found.error) }),
    };
  } catch (error) {
    return { status: 'warn', error: healthError(error) };
  }
}

const PHASES: Record<WorkerInternals['phase'], [HealthStatus, string?]> = {
  idle: ['warn', 'not started yet'],
  started: ['pass'],
  retrying: ['fail', 'could not start; trying again'],
  stopping: ['fail', 'stopping'],
  stopped: ['fail', 'stopped'],
};

/** A worker that stopped or cannot start fails; one not started yet (nothing has started it) warns. */
async function workCheck(worker: WorkerInternals, timeout: number): Promise<WorkCheck> {
  // Woken from outside (a Durable Object per action), its work is run by the platform, not here.
  const phase = worker.wake !== undefined && worker.phase === 'idle' ? 'started' : worker.phase;
  let [status, error] = PHASES[phase];
  let lag: number | undefined;
  if (worker.lag !== undefined) {
    try {
      lag = Math.max(0, Math.round(await within(worker.lag, timeout)));
    } catch (failure) {
      status = worst(status, 'warn');
      error ??= `lag unknown: ${healthError(failure)}`;
    }
  }
  return {
    status,
    running: phase === 'started',
    ...(lag === undefined ? {} : { lag_ms: lag }),
    engine: worker.engine,
    ...(error === undefined ? {} : { error }),
  };
}

/** The `health()` of a provider over `sources`. */
export function providerHealth(sources: HealthSources): (options?: HealthOptions) => Promise<HealthReport> {
  const { store, auth, worker } = sources;
  // Probes that arrive while a check runs share its report: a flood of them (a public /readyz)
  // costs the database one check at a time, not one per probe.
  const running = new Map<number, Promise<HealthReport>>();
  const check = async (timeout: number): Promise<HealthReport> => {
    const [storeResult, authResult, workResult] = await Promise.all([
      storeCheck(store, timeout),
      authCheck(auth, timeout),
      worker === undefined ? undefined : workCheck(worker, timeout),
    ]);
    const statuses = [storeResult.status, authResult.status, ...(workResult ? [workResult.status] : [])];
    return {
      status: worst(...statuses),
      checks: { store: storeResult, auth: authResult, ...(workResult === undefined ? {} : { work: workResult }) },
    };
  };
  return (options = {}) => {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    if (typeof timeout !== 'number' || !(timeout >= 1 && timeout <= MAX_TIMER)) {
      return Promise.reject(new TypeError(`health: timeout must be a number of ms from 1 to ${MAX_TIMER}`));
    }
    let report = running.get(timeout);
    if (report === undefined) {
      report = check(timeout).finally(() => running.delete(timeout));
      running.set(timeout, report);
    }
    return report;
  };
}
