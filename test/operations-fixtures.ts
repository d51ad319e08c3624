/**
 * @module test/operations-fixtures: helpers shared by the operation, authorization, routing and
 * enumerate tests (helpers.ts is shared with other suites and left alone).
 */
import { expect, onTestFinished } from 'vitest';
import type { ActionProvider, ActionStore, Authenticator } from '../src/index.ts';
import { createCaller, memoryStore } from '../src/index.ts';
import { type Call, type Reply, rid, SCOPE, type TRANSPORTS } from './helpers.ts';

export type Transport = (typeof TRANSPORTS)[number];

/** Connect `provider` through `transport`; the server (if any) closes when the test ends. */
export async function connect(transport: Transport, provider: ActionProvider): Promise<Call> {
  const { call, close } = await transport.connect(provider);
  onTestFinished(close);
  return call;
}

/** POST /run as `token`, expecting 202; returns the ActionStatus. */
export async function start(
  call: Call,
  token: string,
  envelope: Record<string, unknown> = {},
  body: Record<string, unknown> = {},
): Promise<any> {
  const reply = await call('POST', '/run', { token, body: { request_id: rid(), body, ...envelope } });
  expect(reply.status, reply.text).toBe(202);
  return reply.json;
}

/** `body[key]` of a run request (testProvider's `run` sees `body` as unknown). */
export const field = (body: unknown, key: string): unknown => (body as Record<string, unknown>)[key];

/** Assert the standard error body and status. */
export function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.json).toEqual({ code, description: expect.any(String) });
}

export type Method = 'GET' | 'POST' | 'DELETE';
export interface Form {
  name: string;
  method: Method;
  path: (id: string) => string;
}

/** Every route form of each operation on an existing action. */
export const FORMS: Record<'status' | 'cancel' | 'release' | 'resume' | 'log', Form[]> = {
  status: [
    { name: 'GET /{id}/status', method: 'GET', path: (id) => `/${id}/status` },
    { name: 'GET /actions/{id}', method: 'GET', path: (id) => `/actions/${id}` },
  ],
  cancel: [
    { name: 'POST /{id}/cancel', method: 'POST', path: (id) => `/${id}/cancel` },
    { name: 'POST /actions/{id}/cancel', method: 'POST', path: (id) => `/actions/${id}/cancel` },
  ],
  release: [
    { name: 'POST /{id}/release', method: 'POST', path: (id) => `/${id}/release` },
    { name: 'DELETE /actions/{id}', method: 'DELETE', path: (id) => `/actions/${id}` },
    { name: 'POST /actions/{id}/release', method: 'POST', path: (id) => `/actions/${id}/release` },
  ],
  resume: [
    { name: 'POST /{id}/resume', method: 'POST', path: (id) => `/${id}/resume` },
    { name: 'POST /actions/{id}/resume', method: 'POST', path: (id) => `/actions/${id}/resume` },
  ],
  log: [
    { name: 'GET /{id}/log', method: 'GET', path: (id) => `/${id}/log` },
    { name: 'GET /actions/{id}/log', method: 'GET', path: (id) => `/actions/${id}/log` },
  ],
};

/**
 * An authenticator whose bearer tokens are `<identity-urn>[,<linked-urn>...]`, with a
 * `groups` loader (from `membership`, by identity URN) that counts its calls (so a test can see when groups were needed).
 */
export function countingAuth(membership: Record<string, readonly string[]>): Authenticator & { groupLoads: number } {
  const auth = {
    groupLoads: 0,
    async authenticate({ token }: { token: string }) {
      const [identity, ...identities] = token.split(',');
      return createCaller({
        identity: identity as string,
        identities,
        scopes: [SCOPE],
        token,
        groups: async () => {
          auth.groupLoads++;
          return membership[identity as string] ?? [];
        },
      });
    },
  };
  return auth;
}

/** A memory store whose `update` waits `ms` first, so concurrent writers overlap. */
export function slowUpdateStore(ms: number): ActionStore {
  const inner = memoryStore();
  return {
    create: (record) => inner.create(record),
    get: (id) => inner.get(id),
    update: async (record) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return inner.update(record);
    },
    delete: (id) => inner.delete(id),
    list: (query) => inner.list(query),
    deleteExpired: (now) => inner.deleteExpired(now),
  };
}
