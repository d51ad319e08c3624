/**
 * @module store/memory-codec: `memoryCodec()`, how the memory store keeps an action: one flat
 * string per action, about half the memory of the record's objects (README, "Choosing a store").
 *
 * Why a string: V8 spends on a record's objects (the record, its request, arrays) far more than
 * their contents (measured with heap snapshots here: 1,030 bytes per echo action held as objects,
 * of which principals repeated in every action, two keys per action built from its ids and the
 * objects' headers were most). A one-byte string costs one byte a character, and the principals
 * (creator, monitor_by, manage_by, allowed_clients), which the same few users repeat in every
 * action, are kept once each in a table the store shares, counted, and dropped with their last
 * action. The string starts with the action's place in enumerate's order, so the sorted lists of
 * the index can hold the strings themselves and compare them as they are: no key per action.
 *
 *   entry = start_time ' ' action_id NUL json
 *   json  = [start_time's length, status, expires_at, version, creator, label, monitor_by,
 *            manage_by, completion_time, release_after, display_status, details, state,
 *            request_id, body, request label, request_id, monitor_by, manage_by,
 *            allowed_clients, deadline, release_after, other record keys, other request keys]
 *
 * Principals are table numbers; a completion time equal to the start time, a display status
 * equal to the status and a request's label and request_id equal to the record's are 0. `start_time` and
 * `action_id` are written with `encodeKey` (no NUL), so NUL ends the key and never sorts inside
 * it. Decoding builds a new record each time: a caller changing what it got cannot change the
 * store. The cost is a JSON.parse of about 200 characters per read (about 1 µs).
 */
import { ACTION_STATUSES, type ActionRecord, type ActionStatusValue, type StoredRequest } from '../model.ts';
import { decodeKey, encodeKey } from './sql-encoding.ts';

/** The keys the positional form holds; any other key of a record (or request) travels as it is. */
const RECORD_KEYS = new Set([
  'action_id',
  'start_time',
  'status',
  'expires_at',
  'version',
  'creator_id',
  'label',
  'monitor_by',
  'manage_by',
  'completion_time',
  'release_after',
  'display_status',
  'details',
  'state',
  'request_id',
  'request',
]);
const REQUEST_KEYS = new Set([
  'request_id',
  'body',
  'label',
  'monitor_by',
  'manage_by',
  'allowed_clients',
  'deadline',
  'release_after',
]);

type Json = unknown;
type Packed = [
  timeLength: number,
  status: number,
  expiresAt: number | null,
  version: number,
  creator: number,
  label: string | null,
  monitorBy: number[],
  manageBy: number[],
  completionTime: string | null | 0,
  releaseAfter: string,
  displayStatus: string | 0,
  details: Json,
  state: Json,
  requestId: string,
  body: Json,
  requestLabel: string | null | 0,
  requestRequestId: string | 0,
  requestMonitorBy: number[] | null,
  requestManageBy: number[] | null,
  allowedClients: number[] | null,
  deadline: string | null,
  requestReleaseAfter: string | null,
  extra?: Record<string, Json> | 0,
  requestExtra?: Record<string, Json>,
];

/** What the memory store knows of an entry without decoding it all. */
export interface EntryHeader {
  status: ActionStatusValue;
  expiresAt: number | null;
}

export interface MemoryCodec {
  /** The entry of `record`; its principals are counted in the table until `release(entry)`. */
  encode(record: ActionRecord): string;
  /** A new record from `entry`. */
  decode(entry: string): ActionRecord;
  /** The entry's status and expiry, read from its first characters. */
  header(entry: string): EntryHeader;
  /** Where the entry sits in enumerate's order: the key its string starts with. */
  orderKey(entry: string): string;
  /**
   * The entry is gone: its principals are counted once less (dropped at zero). `decoded`, the
   * entry's record when the caller has it already, spares decoding it again.
   */
  release(entry: string, decoded?: ActionRecord): void;
  /** How many distinct principals the table holds. */
  readonly principals: number;
}

/** The codec of one store: its principals table lives and dies with the store. */
export function memoryCodec(): MemoryCodec {
  const numbers = new Map<string, number>();
  const names: (string | undefined)[] = [];
  const counts: number[] = [];
  const free: number[] = [];

  const intern = (name: string): number => {
    let n = numbers.get(name);
    if (n === undefined) {
      n = free.pop() ?? names.length;
      numbers.set(name, n);
      names[n] = name;
      counts[n] = 0;
    }
    counts[n] = (counts[n] as number) + 1;
    return n;
  };
  const internAll = (list: readonly string[]): number[] => list.map(intern);
  const internSome = (list: readonly string[] | null): number[] | null => (list === null ? null : internAll(list));
  const drop = (n: number) => {
    const left = (counts[n] as number) - 1;
    counts[n] = left;
    if (left > 0) return;
    numbers.delete(names[n] as string);
    names[n] = undefined;
    free.push(n);
  };
  const name = (n: number): string => names[n] as string;
  const nameSome = (list: number[] | null): string[] | null => (list === null ? null : list.map(name));

  const split = (entry: string) => {
    const end = entry.indexOf('\0');
    return { end, packed: JSON.parse(entry.slice(end + 1)) as Packed };
  };

  return {
    encode(record) {
      const request = record.request;
      const status = ACTION_STATUSES.indexOf(record.status);
      // The header holds it as one digit (see `header`); the provider never writes another.
      if (status < 0) throw new TypeError(`memoryStore: unknown status ${JSON.stringify(record.status)}`);
      const time = encodeKey(record.start_time);
      const packed: Packed = [
        time.length,
        status,
        record.expires_at,
        record.version,
        intern(record.creator_id),
        record.label,
        internAll(record.monitor_by),
        internAll(record.manage_by),
        record.completion_time === record.start_time ? 0 : record.completion_time,
        record.release_after,
        record.display_status === record.status ? 0 : record.display_status,
        record.details,
        record.state,
        record.request_id,
        request.body,
        request.label === record.label ? 0 : request.label,
        request.request_id === record.request_id ? 0 : request.request_id,
        internSome(request.monitor_by),
        internSome(request.manage_by),
        internSome(request.allowed_clients),
        request.deadline,
        request.release_after,
      ];
      const extra = others(record, RECORD_KEYS);
      const requestExtra = others(request, REQUEST_KEYS);
      if (requestExtra !== undefined) packed.push(extra ?? 0, requestExtra);
      else if (extra !== undefined) packed.push(extra);
      // Joined, not concatenated: `+` would leave a tree of string pieces (ConsStrings, 32 bytes
      // each) that V8 flattens into a copy at the first comparison, keeping both.
      return [time, ' ', encodeKey(record.action_id), '\0', JSON.stringify(packed)].join('');
    },
    decode(entry) {
      const { end, packed: p } = split(entry);
      const startTime = decodeKey(entry.slice(0, p[0]));
      const status = ACTION_STATUSES[p[1]] as ActionStatusValue;
      const label = p[5];
      const request: StoredRequest = {
        request_id: p[16] === 0 ? p[13] : p[16],
        body: p[14] as StoredRequest['body'],
        label: p[15] === 0 ? label : p[15],
        monitor_by: nameSome(p[17]),
        manage_by: nameSome(p[18]),
        allowed_clients: nameSome(p[19]),
        deadline: p[20],
        release_after: p[21],
      };
      if (p[23] !== undefined) Object.assign(request, p[23]);
      const record: ActionRecord = {
        action_id: decodeKey(entry.slice(p[0] + 1, end)),
        creator_id: name(p[4]),
        request_id: p[13],
        request,
        status,
        label,
        monitor_by: p[6].map(name),
        manage_by: p[7].map(name),
        start_time: startTime,
        completion_time: p[8] === 0 ? startTime : p[8],
        release_after: p[9],
        display_status: p[10] === 0 ? status : p[10],
        details: p[11] as ActionRecord['details'],
        state: p[12] as ActionRecord['state'],
        expires_at: p[2],
        version: p[3],
      };
      if (typeof p[22] === 'object') Object.assign(record, p[22]);
      return record;
    },
    header(entry) {
      // `[<length>,<status>,<expires_at or null>,` read a character at a time: the sweeper and
      // count() look at every entry, and a JSON.parse each would cost them a hundred times more.
      let at = entry.indexOf('\0') + 2;
      while (entry.charCodeAt(at) !== 44) at++; // past the length and its comma
      const status = ACTION_STATUSES[entry.charCodeAt(at + 1) - 48] as ActionStatusValue;
      at += 3;
      if (entry.charCodeAt(at) === 110) return { status, expiresAt: null }; // null
      let expiresAt = 0;
      let sign = 1;
      if (entry.charCodeAt(at) === 45) {
        sign = -1;
        at++;
      }
      for (let c = entry.charCodeAt(at); c >= 48 && c <= 57; c = entry.charCodeAt(++at))
        expiresAt = expiresAt * 10 + c - 48;
      // Anything but a whole number of milliseconds (never written by the provider): parse it.
      const next = entry.charCodeAt(at);
      if (next !== 44) return { status, expiresAt: split(entry).packed[2] };
      return { status, expiresAt: sign * expiresAt };
    },
    orderKey(entry) {
      return entry.slice(0, entry.indexOf('\0'));
    },
    release(entry, decoded) {
      if (decoded === undefined) {
        const p = split(entry).packed;
        drop(p[4]);
        for (const list of [p[6], p[7], p[17], p[18], p[19]]) if (list !== null) for (const n of list) drop(n);
        return;
      }
      const { request } = decoded;
      const lists = [
        decoded.monitor_by,
        decoded.manage_by,
        request.monitor_by,
        request.manage_by,
        request.allowed_clients,
      ];
      drop(numbers.get(decoded.creator_id) as number);
      for (const list of lists) if (list !== null) for (const name of list) drop(numbers.get(name) as number);
    },
    get principals() {
      return numbers.size;
    },
  };
}

/** The keys of `object` outside `known`, or undefined when there are none. */
function others(object: object, known: ReadonlySet<string>): Record<string, Json> | undefined {
  let found: Record<string, Json> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (known.has(key) || value === undefined) continue;
    found ??= {};
    found[key] = value;
  }
  return found;
}
