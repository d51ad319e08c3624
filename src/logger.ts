/**
 * @module logger: the Logger interface, the default one (one JSON line per event on the
 * console), and what keeps a failure repeated on every request from flooding it.
 */

export type LogFields = Record<string, unknown>;

/** The levels, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where the provider writes: a message and plain fields (snake_case, never a token or a body).
 * The argument order is message first; pino's is fields first (`pinoLogger` adapts it).
 *
 * What it writes: at info, one `request completed` line per request (`request_id`, `method`,
 * `route`, `operation`, `status`, `duration_ms`, and `action_id`, `identity`, `code` when known)
 * and the start and stop of background work; at debug, the reason of each 401 and 403
 * (`request refused`); at warn and error, failures, each cause once a minute with a count of
 * those held back (`suppressed`).
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * Whether lines at `level` are written. Optional: when present, the provider does not even
   * build a line its logger would drop (the per-request info line, say).
   */
  enabled?(level: LogLevel): boolean;
}

const LEVEL_ORDER: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Whether `level` is at or above `threshold` ('silent': nothing is). */
export const atLeast = (level: LogLevel, threshold: LogLevel | 'silent'): boolean =>
  threshold !== 'silent' && LEVEL_ORDER.indexOf(level) >= LEVEL_ORDER.indexOf(threshold);

/** Field names whose values are never logged, whatever a caller passes. */
const SECRET = /token|authorization|secret|password/i;

/** Plain data for a log line: errors become `{name, message, code, stack}`, secrets are redacted. */
export function logSafe(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      ...(typeof (value as unknown as { code?: unknown }).code === 'string'
        ? { code: (value as unknown as { code: string }).code }
        : {}),
      stack: value.stack,
      ...(value.cause === undefined || depth > 3 ? {} : { cause: logSafe(value.cause, depth + 1) }),
    };
  }
  if (typeof value !== 'object' || value === null || depth > 5) return value;
  if (Array.isArray(value)) return value.map((item) => logSafe(item, depth + 1));
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value))
    out[key] = SECRET.test(key) ? '[redacted]' : logSafe(item, depth + 1);
  return out;
}

/**
 * Logs to the console, one JSON object per line, at `level` and above.
 *
 * @example
 * ```ts
 * createActionProvider({ ..., logger: consoleLogger('warn') })
 * ```
 */
export function consoleLogger(level: LogLevel | 'silent' = 'info'): Logger {
  const write = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (!atLeast(at, level)) return;
    const line = JSON.stringify({
      level: at,
      time: new Date().toISOString(),
      message,
      ...(logSafe(fields ?? {}) as LogFields),
    });
    if (at === 'error' || at === 'warn') console.error(line);
    else console.log(line);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    enabled: (at) => atLeast(at, level),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };

/** The part of a pino logger `pinoLogger` uses (pino's own type fits; no import of pino needed). */
export interface PinoLike {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/**
 * A pino logger (or a child of one) as the provider's Logger: pino takes the fields first and
 * the message second, the Logger the other way round. Fields are made safe as consoleLogger
 * makes them (errors as plain data, secret-looking keys redacted).
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * createActionProvider({ ..., logger: pinoLogger(pino({ level: 'info' })) })
 * ```
 */
export function pinoLogger(pino: PinoLike): Logger {
  const fields = (given: LogFields | undefined) => (given === undefined ? {} : (logSafe(given) as LogFields));
  return {
    debug: (message, given) => pino.debug(fields(given), message),
    info: (message, given) => pino.info(fields(given), message),
    warn: (message, given) => pino.warn(fields(given), message),
    error: (message, given) => pino.error(fields(given), message),
    enabled: (level) => pino.isLevelEnabled?.(level) ?? true,
  };
}

export interface LogLimiterOptions {
  /** Milliseconds during which a key is logged once. */
  interval: number;
  /** Milliseconds since the epoch (the provider's injected clock). */
  clock: () => number;
  /** Keys remembered at most; the oldest are forgotten first. Default 1,000. */
  maxKeys?: number;
}

/**
 * Once per key per interval: `admit(key)` answers how many lines for `key` were held back since
 * the last one it let through (0 the first time), or undefined to hold this one back too. So a
 * database outage is logged once a minute with a count, not once per request.
 *
 * @example
 * ```ts
 * const limiter = logLimiter({ interval: 60_000, clock: Date.now })
 * const held = limiter.admit(signature(error))
 * if (held !== undefined) logger.warn('request failed', { error, ...(held ? { suppressed: held } : {}) })
 * ```
 */
export function logLimiter(options: LogLimiterOptions): { admit(key: string): number | undefined } {
  const { interval, clock, maxKeys = 1_000 } = options;
  /** Per key: when its interval ends, and how many lines were held back in it. Oldest first. */
  const windows = new Map<string, { until: number; held: number }>();
  return {
    admit(key) {
      const now = clock();
      const current = windows.get(key);
      if (current !== undefined && now < current.until) {
        current.held++;
        return undefined;
      }
      windows.delete(key); // re-inserted last, so the map stays ordered by interval start
      windows.set(key, { until: now + interval, held: 0 });
      for (const oldest of windows.keys()) {
        if (windows.size <= maxKeys) break;
        windows.delete(oldest);
      }
      return current?.held ?? 0;
    },
  };
}

/**
 * What makes two failures "the same" for the limiter: each error's name, code and message,
 * down its causes. A database outage gives one signature (`connect ECONNREFUSED ...`) however
 * many requests it fails.
 */
export function errorSignature(error: unknown): string {
  const parts: string[] = [];
  let current = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    parts.push(`${current.name}:${typeof code === 'string' ? code : ''}:${current.message}`);
    current = current.cause;
  }
  return parts.join(' <- ');
}

/** A failed request to log: its level, message, the error and extra fields. */
export type FailureLog = (
  level: 'debug' | 'warn' | 'error',
  message: string,
  error: unknown,
  fields?: LogFields,
) => void;

/**
 * Logs each failure once per cause (level, message, errorSignature) per `interval` ms (default
 * a minute), with `suppressed`: how many alike went unlogged since its last line. An outage
 * fails every request, and that says all there is to say about the rest.
 */
export function failureLog(logger: Logger, clock: () => number, interval = 60_000): FailureLog {
  const limiter = logLimiter({ interval, clock });
  return (level, message, error, fields = {}) => {
    const held = limiter.admit(`${level} ${message} ${errorSignature(error)}`);
    if (held === undefined) return;
    logger[level](message, { ...fields, error: logSafe(error), ...(held > 0 ? { suppressed: held } : {}) });
  };
}
