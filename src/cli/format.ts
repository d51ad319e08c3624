/**
 * @module cli/format: the provider's documents as a person reads them at a terminal: an
 * ActionStatus or the introspection document as aligned `key  value` lines, actions as a table,
 * log entries one a line, and a one-line summary of a status for `--watch`. `--json` prints the
 * documents themselves instead (`json`).
 */
import type { ProviderDescription } from '../description.ts';
import type { ActionStatus, LogPage } from '../model.ts';

/** The document as JSON, indented, with a final newline. */
export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** A value in one cell: strings as they are, lists joined, absent as `-`, anything else as compact JSON. */
function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    return value.length === 0 ? '-' : value.join(', ');
  return JSON.stringify(value);
}

/** Aligned `key  value` lines; a value too long for one line goes below its key, indented. */
function pairs(rows: [string, unknown][]): string {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows
    .map(([key, value]) => {
      const text = cell(value);
      if (text.length <= 100 || typeof value !== 'object' || value === null) return `${key.padEnd(width)}  ${text}`;
      const indented = JSON.stringify(value, null, 2).replaceAll('\n', '\n  ');
      return `${key}\n  ${indented}`;
    })
    .join('\n');
}

const STATUS_KEYS = [
  'action_id',
  'status',
  'display_status',
  'label',
  'creator_id',
  'monitor_by',
  'manage_by',
  'start_time',
  'completion_time',
  'release_after',
  'details',
] as const;

/** An ActionStatus, its standard keys in a fixed order, then any others the provider added. */
export function formatStatus(status: ActionStatus): string {
  const extra = Object.keys(status).filter((key) => !(STATUS_KEYS as readonly string[]).includes(key));
  const record = status as unknown as Record<string, unknown>;
  return `${pairs([...STATUS_KEYS, ...extra].map((key) => [key, record[key]]))}\n`;
}

/** The introspection document: what a person asks first (title, scope, ...), the input schema last. */
export function formatDescription(description: ProviderDescription): string {
  const record = description as unknown as Record<string, unknown>;
  const { input_schema: schema, ...rest } = record;
  const text = pairs(Object.entries(rest));
  const input =
    schema === undefined ? '' : `\ninput_schema\n  ${JSON.stringify(schema, null, 2).replaceAll('\n', '\n  ')}`;
  return `${text}${input}\n`;
}

/** Actions as a table: id, status, display status, label, start time. */
export function formatList(actions: readonly ActionStatus[]): string {
  const head = ['ACTION_ID', 'STATUS', 'DISPLAY_STATUS', 'LABEL', 'START_TIME'];
  const rows = actions.map((a) => [a.action_id, a.status, a.display_status, a.label, a.start_time].map(cell));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n`;
}

/** Log entries one a line: `time  message` when an entry has them, else the entry as JSON. */
export function formatLog(page: LogPage): string {
  return page.entries
    .map((entry) => {
      const { time, message } = entry;
      return typeof message === 'string'
        ? `${typeof time === 'string' ? `${time}  ` : ''}${message}`
        : JSON.stringify(entry);
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** One line for `--watch`: the status, what the provider says of it, and its details. */
export function statusLine(status: ActionStatus, at: number): string {
  const time = new Date(at).toISOString().slice(11, 19);
  const shown = status.display_status && status.display_status !== status.status ? `  ${status.display_status}` : '';
  const details = status.details !== undefined && Object.keys(status.details ?? {}).length > 0;
  return `${time}Z  ${status.status}${shown}${details ? `  ${JSON.stringify(status.details)}` : ''}`;
}
