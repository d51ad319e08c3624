/**
 * @module testing/client: a small Action Provider client over any base URL (or any fetch),
 * for tests. It calls the routes Globus Flows calls (`/run`, `/{id}/status`, ...) or, with
 * `routes: 'actions'`, the `/actions` family.
 */
import type { ActionRequestEnvelope } from '../model.ts';

// biome-ignore lint/suspicious/noExplicitAny: a test reads the JSON it asserts on without declaring its shape first.
export interface ClientReply<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined when the body is empty or not JSON. */
  body: T;
  /** The body as received, before parsing: for checks on the exact bytes (what must never be sent, byte-identical answers). */
  text: string;
}

export interface ActionClientOptions {
  /** Bearer token sent with every call. */
  token?: string;
  /** Route family. Default `legacy` (what Flows uses). */
  routes?: 'legacy' | 'actions';
  /** Defaults to the global fetch; pass `provider.fetch` to call a provider in-process. */
  fetch?: (request: Request) => Response | Promise<Response>;
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
  enumerate(query?: { status?: string; roles?: string }): Promise<ClientReply>;
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
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  const modern = options.routes === 'actions';

  async function call(method: string, path: string, body?: unknown): Promise<ClientReply> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await doFetch(
      new Request(base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
    );
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  const id = (actionId: string) => encodeURIComponent(actionId);
  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return text === '' ? '' : `?${text}`;
  };

  return {
    introspect: () => call('GET', '/'),
    run: (request) => call('POST', modern ? '/actions' : '/run', { request_id: crypto.randomUUID(), ...request }),
    status: (a) => call('GET', modern ? `/actions/${id(a)}` : `/${id(a)}/status`),
    cancel: (a) => call('POST', modern ? `/actions/${id(a)}/cancel` : `/${id(a)}/cancel`),
    release: (a) => call(modern ? 'DELETE' : 'POST', modern ? `/actions/${id(a)}` : `/${id(a)}/release`),
    resume: (a) => call('POST', modern ? `/actions/${id(a)}/resume` : `/${id(a)}/resume`),
    log: (a, q = {}) => call('GET', `${modern ? `/actions/${id(a)}/log` : `/${id(a)}/log`}${query(q)}`),
    enumerate: (q = {}) => call('GET', `/actions${query(q)}`),
    withToken: (token) => {
      const { token: _drop, ...rest } = options;
      return actionClient(baseUrl, token === undefined ? rest : { ...rest, token });
    },
  };
}
