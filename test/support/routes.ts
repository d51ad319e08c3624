/**
 * @module test/support/routes: the routes of the interface: run's two spellings, and every
 * form of each operation on an existing action, each sent the way a client would send it.
 */
import type { ClientReply, RunRequest } from '../../src/testing/index.ts';
import { type Connection, connect, type Routes, type Servable, type Transport } from './transports.ts';

/** Both spellings of "run": the legacy route and the `/actions` family. */
export const ROUTES = ['/run', '/actions'] as const;
export type Route = (typeof ROUTES)[number];

/** The client's route family for a run route. */
export const routesOf = (route: Route): Routes => (route === '/run' ? 'legacy' : 'actions');

export interface LogQuery {
  limit?: number;
  marker?: string;
}

export interface Form {
  name: string;
  /** The path for action `id`, for a raw request on this form (a query the client does not send). */
  path(id: string): string;
  /** Send this form for action `id` as `token` (none when undefined); `query` only matters to log. */
  send(connection: Connection, id: string, token?: string, query?: LogQuery): Promise<ClientReply>;
}

type Operation = 'status' | 'cancel' | 'release' | 'resume' | 'log';

/** A form the library's client sends: `operation` on the `routes` family. */
const client = (name: string, path: (id: string) => string, routes: Routes, operation: Operation): Form => ({
  name,
  path,
  send: (connection, id, token, query) => {
    const c = connection.client(token, routes);
    return operation === 'log' ? c.log(id, query) : c[operation](id);
  },
});

/** A form the client does not send (it releases with DELETE on the `/actions` family): a raw request. */
const raw = (name: string, method: string, path: (id: string) => string): Form => ({
  name,
  path,
  send: (connection, id, token) => connection.raw(method, path(id), token === undefined ? {} : { token }),
});

/** Every route form of each operation on an existing action. */
export const FORMS: Record<Operation, Form[]> = {
  status: [
    client('GET /{id}/status', (id) => `/${id}/status`, 'legacy', 'status'),
    client('GET /actions/{id}', (id) => `/actions/${id}`, 'actions', 'status'),
  ],
  cancel: [
    client('POST /{id}/cancel', (id) => `/${id}/cancel`, 'legacy', 'cancel'),
    client('POST /actions/{id}/cancel', (id) => `/actions/${id}/cancel`, 'actions', 'cancel'),
  ],
  release: [
    client('POST /{id}/release', (id) => `/${id}/release`, 'legacy', 'release'),
    client('DELETE /actions/{id}', (id) => `/actions/${id}`, 'actions', 'release'),
    raw('POST /actions/{id}/release', 'POST', (id) => `/actions/${id}/release`),
  ],
  resume: [
    client('POST /{id}/resume', (id) => `/${id}/resume`, 'legacy', 'resume'),
    client('POST /actions/{id}/resume', (id) => `/actions/${id}/resume`, 'actions', 'resume'),
  ],
  log: [
    client('GET /{id}/log', (id) => `/${id}/log`, 'legacy', 'log'),
    client('GET /actions/{id}/log', (id) => `/actions/${id}/log`, 'actions', 'log'),
  ],
};

export interface RunConnection extends Connection {
  /** POST `request` to the route as `token` (none when undefined), through the library's client. */
  run(token: string | undefined, request: RunRequest): Promise<ClientReply>;
}

/** Connect to `provider` through `transport` for the tests of one run route. */
export async function connectRun(transport: Transport, route: Route, provider: Servable): Promise<RunConnection> {
  const connection = await connect(transport, provider);
  return { ...connection, run: (token, request) => connection.client(token, routesOf(route)).run(request) };
}
