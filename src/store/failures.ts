/**
 * @module store/failures: which database errors mean "the store is unavailable" (unreachable,
 * frozen, full, read-only, overloaded) rather than a bug, for each backend; and the 503 they
 * become. A client may retry the first kind; the second stays a logged 500.
 */
import { ActionError } from '../http/errors.ts';

/** Thrown by a driver whose database did not answer in time (the store's own deadline). */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
  readonly code = 'STORE_TIMEOUT';
}

/** Tells whether one error (not its causes: `isUnavailable` walks those) means the store is unavailable. */
export type UnavailableTest = (error: unknown) => boolean;

/** The 503 a client receives: the cause is logged, never sent. */
export function storeUnavailable(cause: unknown, retryAfter: number): ActionError {
  return new ActionError('ServiceUnavailable', 'The action store is unavailable; try again later', {
    cause,
    headers: { 'retry-after': String(retryAfter) },
  });
}

/**
 * True when `error`, one of its causes or (for an AggregateError, as Node's connect gives when
 * every address of a host refused) one of its errors is a StoreTimeoutError or passes `test`.
 */
export function isUnavailable(error: unknown, test?: UnavailableTest, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (error instanceof StoreTimeoutError || test?.(error) === true) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.some((inner) => isUnavailable(inner, test, depth + 1))) return true;
  return isUnavailable(cause, test, depth + 1);
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

/** Socket errors of any network client: the database host cannot be reached or dropped the connection. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLite's primary result codes (the low byte of an extended code) that a retry can outlast:
 * BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14, PROTOCOL 15. CORRUPT,
 * NOTADB, MISUSE, constraint and syntax errors are not among them.
 */
const SQLITE_PRIMARY = new Set([5, 6, 7, 8, 10, 13, 14, 15]);
const SQLITE_NAME = /^SQLITE_(BUSY|LOCKED|NOMEM|READONLY|IOERR|FULL|CANTOPEN|PROTOCOL)(_|$)/;

/**
 * better-sqlite3 and bun:sqlite put the name in `code` (`SQLITE_IOERR_WRITE`); node:sqlite puts
 * `ERR_SQLITE_ERROR` there and the number in `errcode`.
 */
export const sqliteUnavailable: UnavailableTest = (error) => {
  const code = codeOf(error);
  if (typeof code === 'string' && SQLITE_NAME.test(code)) return true;
  const { errcode } = error as { errcode?: unknown };
  return typeof errcode === 'number' && SQLITE_PRIMARY.has(errcode & 0xff);
};

/** SQLSTATEs of a server that is shutting down, overloaded, out of space, read-only or timing out. */
const POSTGRES_STATES = new Set([
  '57P01', // admin_shutdown (pg_ctl stop -m fast, pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '57P05', // idle_session_timeout
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '25006', // read_only_sql_transaction: a standby, or default_transaction_read_only
  '25P03', // idle_in_transaction_session_timeout
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '58000', // system_error
  '58030', // io_error
]);
/** Errors of the `postgres` client itself: its connection closed, ended, or did not open in time. */
const POSTGRES_CLIENT = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/**
 * The connection itself is gone (refused, reset, closed, the server shutting down), as opposed
 * to a statement failing on a live one.
 */
export const postgresConnectionLost: UnavailableTest = (error) => {
  const code = codeOf(error);
  return (
    typeof code === 'string' &&
    (NETWORK.has(code) || POSTGRES_CLIENT.has(code) || code === '57P01' || code === '57P02' || code.startsWith('08'))
  );
};

/** Class 08 (connection exception) and 53 (insufficient resources: disk full, out of memory, too many connections) too. */
export const postgresUnavailable: UnavailableTest = (error) => {
  const code = codeOf(error);
  if (typeof code !== 'string') return false;
  return (
    NETWORK.has(code) || POSTGRES_CLIENT.has(code) || POSTGRES_STATES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code)
  );
};

/** D1 reports failures as messages; these are the ones Cloudflare documents as transient, plus a full database. */
const D1_TRANSIENT =
  /network connection lost|transient issue|overloaded|(was|be) reset|exceeded maximum db size|database or disk is full|database is locked|disk i\/o error/i;

export const d1Unavailable: UnavailableTest = (error) =>
  sqliteUnavailable(error) || (error instanceof Error && D1_TRANSIENT.test(error.message));
