/** @module logger: the Logger interface and the default one (one JSON line per event on the console). */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

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
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const min = order.indexOf(level);
  const write = (at: (typeof order)[number]) => (message: string, fields?: LogFields) => {
    if (order.indexOf(at) < min) return;
    const line = JSON.stringify({
      level: at,
      time: new Date().toISOString(),
      message,
      ...(logSafe(fields ?? {}) as LogFields),
    });
    if (at === 'error' || at === 'warn') console.error(line);
    else console.log(line);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
