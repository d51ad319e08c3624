/**
 * @module test/support/raw: a raw request to a provider, for the tests about the bytes on the
 * wire: invalid JSON, odd methods, HEAD and OPTIONS, chosen headers, envelopes a `RunRequest`
 * cannot express. Everything else goes through the library's own `actionClient`. Its answer
 * has the client's reply shape, so one set of assertions reads both.
 */
import type { ClientReply } from '../../src/testing/index.ts';

export interface RawOptions {
  token?: string;
  /** JSON-encoded, with `content-type: application/json` unless `headers` says otherwise. */
  body?: unknown;
  /** Sent as is (not JSON-encoded). */
  raw?: string;
  headers?: Record<string, string>;
}

export type RawCall = (method: string, path: string, options?: RawOptions) => Promise<ClientReply>;

/** Anything that answers a Request: a provider, or a provider with its fetch wrapped. */
export interface Fetcher {
  fetch(request: Request): Response | Promise<Response>;
}

/** Raw requests over real HTTP when `target` is a base URL, through `target.fetch` otherwise. */
export function rawCaller(target: string | Fetcher): RawCall {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const init: RequestInit = { method, headers, ...(body === undefined ? {} : { body }) };
    const response =
      typeof target === 'string'
        ? await fetch(target + path, init)
        : await target.fetch(new Request(`http://provider.test${path}`, init));
    return toReply(response);
  };
}

/** A Response read as the client reads it: status, headers, text, and the JSON (undefined when empty or not JSON). */
export async function toReply(response: Response): Promise<ClientReply> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}
