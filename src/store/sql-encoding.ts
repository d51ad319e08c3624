/**
 * @module store/sql-encoding: strings the SQL databases cannot hold as they are (NUL, lone
 * surrogates) made storable, and read back exactly, the same way on every SQL store; so a
 * string answers the same on memory, SQLite, D1 and PostgreSQL.
 */
import type { ActionRecord } from '../model.ts';

/** Starts an encoded key; a noncharacter, which Unicode keeps for internal use like this. */
const MARK = '\uffff';
const AWKWARD = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A key column's value (action, creator and request ids, principals): unchanged unless it holds
 * NUL or a lone surrogate, or starts with the mark; then the mark and its JSON (which spells
 * both as `\uXXXX`). PostgreSQL refuses NUL in TEXT, and both drivers turn a lone surrogate into
 * U+FFFD, so two request_ids would collide. Injective, so lookups stay exact.
 */
export function encodeKey(value: string): string {
  return AWKWARD.test(value) || value.startsWith(MARK) ? MARK + JSON.stringify(value) : value;
}

/** `encodeKey` undone. */
export function decodeKey(value: string): string {
  return value.startsWith(MARK) ? (JSON.parse(value.slice(1)) as string) : value;
}

/** The key of the one-key object that wraps a record's JSON text. No ActionRecord has it. */
const WRAPPED = 'gap_json_text';
/**
 * `\u0000` or an escaped lone surrogate in JSON.stringify's output (it writes well-formed pairs
 * as they are). An escaped backslash before `u0000` matches too, and only takes the wrapped path.
 */
const ESCAPED = /\\u(0000|d[89a-f])/;

/**
 * The `record` column's text. PostgreSQL's JSONB refuses `\u0000` and lone surrogates, so a
 * record holding either is stored as its JSON text inside a one-key object: the text escapes
 * them, and JSON escapes that text's backslashes, so every store keeps it exactly.
 */
export function encodeRecord(record: ActionRecord): string {
  const json = JSON.stringify(record);
  return ESCAPED.test(json) ? JSON.stringify({ [WRAPPED]: json }) : json;
}

/** The record from the `record` column: JSONB arrives parsed from PostgreSQL, TEXT as a string from SQLite. */
export function decodeRecord(value: unknown): ActionRecord {
  const parsed = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
  const inner = parsed[WRAPPED];
  return (typeof inner === 'string' ? JSON.parse(inner) : parsed) as ActionRecord;
}
