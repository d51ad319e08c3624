/**
 * @module test/bench/scale-records: the actions test/bench/scale.ts seeds, defined once for the
 * three places that make them: JavaScript (the memory store's child builds each record as JSON
 * text and parses it) and SQL on SQLite and PostgreSQL (bulk inserts). Action `i` is the same
 * action in all three: its id, request id, creator, times and echoed string are functions of `i`
 * written here side by side, so they cannot drift apart (scale.ts checks sample rows against
 * `recordMaker` after every load).
 */
import { createHash } from 'node:crypto';

/** Everything the records depend on besides their index: fixed for a whole run. */
export interface SeedPlan {
  /** The stored record of a real `POST /run` of the echo provider, as JSON text. */
  template: string;
  /** The creators' identity URNs; action `i` is created by `creators[i % creators.length]`. */
  creators: string[];
  /** Start time of action 0, ms since the epoch; action `i` starts `i * stepMs` later. */
  base: number;
  stepMs: number;
  /** Completion after start, and expiry after completion, ms: the template's own. */
  completionMs: number;
  releaseMs: number;
}

/**
 * Indices up to this keep every integer below 2^53 in the id arithmetic, so JavaScript's
 * doubles compute exactly what SQL's 64-bit integers do.
 */
export const MAX_ACTIONS = 3_000_000;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A UUID (version 4 layout) for action `i`. The first group is `i * 2654435761 mod 2^32`: an
 * odd multiplier makes that a bijection, so every id is distinct, and it scatters consecutive
 * actions over the whole key space as random ids would (each B-tree insert and status lookup
 * lands anywhere in the index, not at its end).
 */
export function actionIdOf(i: number): string {
  return `${hex((i * 2654435761) % 2 ** 32, 8)}-${hex((i * 40503) % 65536, 4)}-4${hex((i * 2557) % 4096, 3)}-${hex(0x8000 + ((i * 11) % 0x4000), 4)}-${hex(i, 12)}`;
}

/** `actionIdOf` in SQL, `i` an integer (BIGINT on PostgreSQL) expression. */
export function actionIdSql(dialect: 'sqlite' | 'postgres', i: string): string {
  if (dialect === 'sqlite') {
    return `printf('%08x-%04x-4%03x-%04x-%012x', (${i} * 2654435761) % 4294967296, (${i} * 40503) % 65536, (${i} * 2557) % 4096, 32768 + (${i} * 11) % 16384, ${i})`;
  }
  const h = (expr: string, width: number) => `lpad(to_hex(${expr}), ${width}, '0')`;
  return `${h(`(${i} * 2654435761) % 4294967296`, 8)} || '-' || ${h(`(${i} * 40503) % 65536`, 4)} || '-4' || ${h(`(${i} * 2557) % 4096`, 3)} || '-' || to_hex(32768 + (${i} * 11) % 16384) || '-' || ${h(i, 12)}`;
}

/** Creator `c`'s identity id (a random-looking UUID, as Globus identities are). */
export function creatorIdOf(c: number): string {
  const h = createHash('md5').update(`scale-creator-${c}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Fixed width, so every status body has the same length at every size (the bare Hono route serves one). */
export const requestIdOf = (i: number) => `scale-${String(i).padStart(7, '0')}`;
export const saidOf = (i: number) => `hello ${String(i).padStart(7, '0')}`;
export const requestIdSql = (dialect: 'sqlite' | 'postgres', i: string) =>
  dialect === 'sqlite' ? `printf('scale-%07d', ${i})` : `'scale-' || lpad(${i}::text, 7, '0')`;
export const saidSql = (dialect: 'sqlite' | 'postgres', i: string) =>
  dialect === 'sqlite' ? `printf('hello %07d', ${i})` : `'hello ' || lpad(${i}::text, 7, '0')`;

/** A time as the provider writes it: `2026-01-02T03:04:05.678+00:00`. */
export const timeText = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

/** `timeText` in SQL, `ms` an integer expression: integer arithmetic only, so no float rounds a millisecond. */
export function timeSql(dialect: 'sqlite' | 'postgres', ms: string): string {
  return dialect === 'sqlite'
    ? `strftime('%Y-%m-%dT%H:%M:%S', (${ms}) / 1000, 'unixepoch') || printf('.%03d+00:00', (${ms}) % 1000)`
    : `to_char(to_timestamp((${ms}) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad(((${ms}) % 1000)::text, 3, '0') || '+00:00'`;
}

export const startMsOf = (plan: SeedPlan, i: number) => plan.base + i * plan.stepMs;

/** The template's fields an action varies, by path; every one must be in the template. */
const VARIED = [
  'action_id',
  'creator_id',
  'request_id',
  'request.request_id',
  'request.body.input_string',
  'monitor_by.0',
  'manage_by.0',
  'start_time',
  'completion_time',
  'details.you_said',
  'expires_at',
] as const;
type Field = (typeof VARIED)[number];

/** Action `i`'s value of each varied field. */
export function fieldsOf(plan: SeedPlan, i: number): Record<Field, string | number> {
  const creator = plan.creators[i % plan.creators.length] as string;
  const start = startMsOf(plan, i);
  const said = saidOf(i);
  const requestId = requestIdOf(i);
  return {
    action_id: actionIdOf(i),
    creator_id: creator,
    request_id: requestId,
    'request.request_id': requestId,
    'request.body.input_string': said,
    'monitor_by.0': creator,
    'manage_by.0': creator,
    start_time: timeText(start),
    completion_time: timeText(start + plan.completionMs),
    'details.you_said': said,
    expires_at: start + plan.completionMs + plan.releaseMs,
  };
}

const MARK = /"@@scale:([\w.]+)@@"/;

/**
 * `(i) => action i's record as JSON text`: the template's text with the varied values put in
 * (the text is cut once at placeholders, so a record costs a few concatenations). The memory
 * store's records are `JSON.parse` of it, so no string is shared between two records (a real
 * request's JSON body is parsed afresh too).
 */
export function recordMaker(plan: SeedPlan): (i: number) => string {
  const marked = JSON.parse(plan.template) as Record<string, unknown>;
  for (const path of VARIED) {
    const keys = path.split('.');
    let at = marked as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      const next = at[key];
      if (typeof next !== 'object' || next === null) throw new Error(`template: no ${path}`);
      at = next as Record<string, unknown>;
    }
    const last = keys.at(-1) as string;
    if (!(last in at)) throw new Error(`template: no ${path}`);
    at[last] = `@@scale:${path}@@`;
  }
  const parts = JSON.stringify(marked).split(MARK); // literal, field, literal, field, ..., literal
  return (i) => {
    const fields = fieldsOf(plan, i);
    let text = parts[0] as string;
    for (let k = 1; k < parts.length; k += 2) {
      const value = fields[parts[k] as Field];
      text += (typeof value === 'number' ? String(value) : JSON.stringify(value)) + (parts[k + 1] as string);
    }
    return text;
  };
}
