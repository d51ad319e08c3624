/** @module test/run-support: fixtures shared by the run-*.test.ts files (POST /run and POST /actions). */
import { inspect } from 'node:util';
import { afterEach, expect } from 'vitest';
import {
  type ActionProvider,
  type ActionStore,
  type DescriptionOptions,
  type Logger,
  memoryStore,
} from '../src/index.ts';
import { type Call, caller, listen, type Reply, SCOPE, type TRANSPORTS } from './helpers.ts';

/** Both spellings of "run": the legacy route and the `/actions` family. */
export const ROUTES = ['/run', '/actions'] as const;
export type Route = (typeof ROUTES)[number];

/** The release route of the same family as `route`. */
export const releasePath = (route: Route, actionId: string) =>
  route === '/run' ? `/${actionId}/release` : `/actions/${actionId}/release`;

/** A whole provider description (testProvider's `description` option replaces its default). */
export const description = (extra: Partial<DescriptionOptions> = {}): DescriptionOptions => ({
  title: 'Test provider',
  globus_auth_scope: SCOPE,
  admin_contact: 'admin@example.org',
  ...extra,
});

export type Transport = (typeof TRANSPORTS)[number];

export interface Connection {
  call: Call;
  /** A raw request (for bodies `call` cannot send: bytes, streams, abort signals). */
  fetch(path: string, init: RequestInit): Promise<Response>;
  /** The server's base URL over real HTTP; undefined in process. */
  url: string | undefined;
}

/**
 * Connect to `provider` through `transport`; everything opened is closed after each test.
 * In process this is the transport's own `connect`; over HTTP it is the same `listen()` the
 * transport uses, keeping the URL for raw requests.
 */
export function opener(transport: Transport): (provider: ActionProvider) => Promise<Connection> {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  return async (provider) => {
    if (transport.name === 'real HTTP') {
      const server = await listen(provider);
      open.push(() => {
        const closing = server.close();
        // Every test has its answers by now; a connection the client opened but never used
        // (undici opens one after an abort) would otherwise hold close() for seconds.
        server.server.closeAllConnections();
        return closing;
      });
      return { call: caller(server.url), fetch: (path, init) => fetch(server.url + path, init), url: server.url };
    }
    const connection = await transport.connect(provider);
    open.push(connection.close);
    return {
      call: connection.call,
      fetch: async (path, init) => provider.fetch(new Request(`http://provider.test${path}`, init)),
      url: undefined,
    };
  };
}

/** The standard ActionStatus keys (exactly these are sent: no `state`, no `request`). */
export const STATUS_KEYS = [
  'action_id',
  'status',
  'creator_id',
  'label',
  'monitor_by',
  'manage_by',
  'start_time',
  'completion_time',
  'release_after',
  'display_status',
  'details',
] as const;

/** ISO 8601 date-time with the explicit UTC offset Globus services write. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;

/** A full ActionStatus document: every standard key, well-typed, times in ISO 8601 with +00:00. */
export function expectActionStatus(json: any): void {
  expect(Object.keys(json).sort()).toEqual([...STATUS_KEYS].sort());
  expect(json.action_id).toEqual(expect.any(String));
  expect(json.action_id).not.toBe('');
  expect(['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED']).toContain(json.status);
  expect(json.creator_id).toMatch(/^urn:globus:auth:identity:/);
  expect(json.label === null || typeof json.label === 'string').toBe(true);
  expect(Array.isArray(json.monitor_by)).toBe(true);
  expect(Array.isArray(json.manage_by)).toBe(true);
  expect(json.start_time).toMatch(ISO_UTC);
  if (json.status === 'SUCCEEDED' || json.status === 'FAILED') expect(json.completion_time).toMatch(ISO_UTC);
  else expect(json.completion_time).toBeNull();
  expect(json.release_after).toMatch(/^P(?!$)/);
  expect(json.display_status).toEqual(expect.any(String));
  expect(json.details).toEqual(expect.any(Object));
  expect(Array.isArray(json.details)).toBe(false);
}

/** A successful run answer: `status`, JSON content type, and a full ActionStatus. */
export function expectAction(reply: Reply, status: 200 | 202): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expectActionStatus(reply.json);
}

/** An error answer: exactly `{code, description}`, JSON content type; `description` checked when given. */
export function expectError(reply: Reply, status: number, code: string, description?: string | RegExp): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(Object.keys(reply.json).sort()).toEqual(['code', 'description']);
  expect(reply.json.code).toBe(code);
  expect(reply.json.description).toEqual(expect.any(String));
  if (typeof description === 'string') expect(reply.json.description).toBe(description);
  else if (description !== undefined) expect(reply.json.description).toMatch(description);
}

/** The `Field '...'` lines of a validation error description. */
export const fieldLines = (reply: Reply): string[] => String(reply.json?.description ?? '').split('; ');

/** A logger that keeps every call, and the whole of it as text for leak scans. */
export function captureLogger(): Logger & {
  lines: { level: string; message: string; fields: unknown }[];
  text(): string;
} {
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const at = (level: string) => (message: string, fields?: unknown) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // inspect shows error stacks and causes that JSON.stringify would drop.
    text: () =>
      lines
        .map(
          (line) =>
            `${line.level} ${line.message} ${inspect(line.fields, { depth: 20 })} ${JSON.stringify(line.fields)}`,
        )
        .join('\n'),
  };
}

/** A promise with its resolver, for holding a callback until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A memory store whose `allArrived` resolves once `create()` has been called `count` times. */
export function countingStore(count: number): { store: ActionStore; creates: () => number; allArrived: Promise<void> } {
  const base = memoryStore();
  const arrived = gate();
  let creates = 0;
  const store: ActionStore = {
    create: (record) => {
      if (++creates === count) arrived.open();
      return base.create(record);
    },
    get: (id) => base.get(id),
    update: (record) => base.update(record),
    delete: (id) => base.delete(id),
    list: (query) => base.list(query),
    deleteExpired: (now) => base.deleteExpired(now),
  };
  return { store, creates: () => creates, allArrived: arrived.promise };
}

/** Resolves after `ms`, or rejects with `message` if `promise` has not settled by then. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
