/**
 * @module testing/client: a small Action Provider client over any base URL (or any fetch),
 * for tests. It calls the routes Globus Flows calls (`/run`, `/{id}/status`, ...) or, with
 * `routes: 'actions'`, the `/actions` family, and answers each reply as received. Routes and
 * requests are those of the public client (client/request.ts): one implementation of both.
 */
import { type FetchLike, type RawReply, routes, sender } from '../client/request.ts';
import type { ActionRequestEnvelope } from '../model.ts';

// biome-ignore lint/suspicious/noExplicitAny: a test reads the JSON it asserts on without declaring its shape first.
export type ClientReply<T = any> = RawReply<T>;

export interface ActionClientOptions {
  /** Bearer token sent with every call. */
  token?: string;
  /** Route family. Default `legacy` (what Flows uses). */
  routes?: 'legacy' | 'actions';
  /** Defaults to the global fetch; pass `provider.fetch` to call a provider in-process. */
  fetch?: FetchLike;
}

/** The ActionRequest to send; `request_id` may be left out, and other keys pass through as given. */
export type RunRequest = Omit<ActionRequestEnvelope, 'request_id'> &
  Partial<Pick<ActionRequestEnvelope, 'request_id'>> & { [key: string]: unknown };

export interface ActionClient {
  introspect(): Promise<ClientReply>;
  /** `request_id` defaults to a new UUID. */
  run(request: RunRequest): Promise<ClientReply>;
  status(actionId: string): Promise<ClientReply>;
  cancel(actionId: string): Promise<ClientReply>;
  release(actionId: string): Promise<ClientReply>;
  resume(actionId: string): Promise<ClientReply>;
  log(actionId: string, query?: { limit?: number; marker?: string }): Promise<ClientReply>;
  /** `GET /actions`; the next page's marker is the reply's `x-next-marker` header. */
  enumerate(query?: {
    status?: string;
    roles?: string;
    limit?: number | string;
    marker?: string;
    pagination_token?: string;
  }): Promise<ClientReply>;
  /** The same client with another token. */
  withToken(token: string | undefined): ActionClient;
}

/**
 * @example
 * ```ts
 * const client = actionClient('http://127.0.0.1:8080', { token })
 * const { status, body } = await client.run({ body: { input_string: 'hi' } })
 * ```
 */
export function actionClient(baseUrl: string, options: ActionClientOptions = {}): ActionClient {
  const send = sender(baseUrl, options);
  const route = routes(options.routes === 'actions' ? 'actions' : 'legacy');
  return {
    introspect: () => send(route.introspect()),
    run: (request) => send(route.run({ request_id: crypto.randomUUID(), ...request })),
    status: (a) => send(route.status(a)),
    cancel: (a) => send(route.cancel(a)),
    release: (a) => send(route.release(a)),
    resume: (a) => send(route.resume(a)),
    log: (a, q = {}) => send(route.log(a, q)),
    enumerate: (q = {}) => send(route.list(q)),
    withToken: (token) => {
      const { token: _drop, ...rest } = options;
      return actionClient(baseUrl, token === undefined ? rest : { ...rest, token });
    },
  };
}
