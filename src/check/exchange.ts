/**
 * @module check/exchange: how the checker talks to a provider: one request at a time through
 * the injected fetch, each with a timeout, counted against the run's bound, and recorded as it
 * was sent and answered with every token replaced by its name.
 */

import { readCapped } from '../http/read-capped.ts';
import type { Exchange, ReceivedAnswer, SentRequest } from './types.ts';

/** Which credential a request carries: none, the caller's, the other identity's, or one no provider accepts. */
export type Credential = 'none' | 'token' | 'other' | 'invalid';

export interface SendInput {
  method: string;
  /** From the base URL, starting with `/` (a query string allowed). */
  path: string;
  /** Default `token`. */
  credential?: Credential;
  /** Sent as JSON (with `Content-Type: application/json`). */
  json?: unknown;
  /** Sent as it is (with `Content-Type: application/json`): for bodies that are no JSON. */
  text?: string;
  headers?: Record<string, string>;
}

/**
 * An answer, read: status, headers, the text and, when it parses, the JSON, as received (a
 * reason quoting them is redacted when the check is decided).
 */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /**
   * The text with every token replaced by its name, for a reason that quotes the start of a
   * body: cut short first, a token would no longer match and its first characters would stay.
   */
  shown: string;
  /** Undefined when the body is empty or no JSON. */
  json: unknown;
}

export interface Sent {
  exchange: Exchange;
  /** Undefined when no answer came (`exchange.error` says why). */
  answer?: Answer;
}

export type Send = (input: SendInput) => Promise<Sent>;

/** The run sent more requests than its bound: a bug in the checker, never the provider's doing. */
export class RequestBoundError extends Error {
  override readonly name: string = 'RequestBoundError';
}

export interface ExchangeOptions {
  /** The provider's base URL, without a trailing slash. */
  base: string;
  fetch: (request: Request) => Promise<Response>;
  token: string | undefined;
  otherToken: string | undefined;
  timeoutMs: number;
  bound: number;
}

/** The token sent as `invalid`: well formed, accepted by no provider. */
const INVALID_TOKEN = 'globus-action-provider-check.not-a-valid-token';
/** An answer body is kept up to this many characters in the report. */
const MAX_RECORDED = 4_096;
/** An answer body is read up to this many bytes (no provider document comes near it), the rest dropped. */
const MAX_READ = 1024 * 1024;

/** A sender for one run, and the count of what it sent. */
export function createExchange(options: ExchangeOptions): {
  send: Send;
  count(): number;
  /** `text` with every token replaced by its name. */
  redact(text: string): string;
} {
  const { base, token, otherToken } = options;
  let sent = 0;
  const secrets: [string, string][] = [];
  if (token !== undefined) secrets.push([token, '<token>']);
  if (otherToken !== undefined) secrets.push([otherToken, '<other token>']);
  const redact = (text: string): string => {
    let out = text;
    for (const [secret, name] of secrets) out = out.replaceAll(secret, name);
    return out;
  };
  const bearer: Record<Credential, [string, string] | undefined> = {
    none: undefined,
    token: token === undefined ? undefined : [token, '<token>'],
    other: otherToken === undefined ? undefined : [otherToken, '<other token>'],
    invalid: [INVALID_TOKEN, INVALID_TOKEN],
  };

  const send: Send = async (input) => {
    if (sent >= options.bound) throw new RequestBoundError(`more than ${options.bound} requests`);
    sent++;
    const url = `${base}${input.path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...input.headers };
    const recorded: Record<string, string> = { ...headers };
    const credential = bearer[input.credential ?? 'token'];
    if (credential !== undefined) {
      headers['authorization'] = `Bearer ${credential[0]}`;
      recorded['authorization'] = `Bearer ${credential[1]}`;
    }
    const body = input.text ?? (input.json === undefined ? undefined : JSON.stringify(input.json));
    if (body !== undefined) headers['content-type'] = recorded['content-type'] = 'application/json';
    const request: SentRequest = {
      method: input.method,
      url,
      headers: recorded,
      ...(body === undefined ? {} : { body }),
    };
    let response: Response;
    let text: string;
    try {
      response = await options.fetch(
        new Request(url, {
          method: input.method,
          headers,
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        }),
      );
      text = await readUpTo(response);
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const why = timedOut ? `no answer within ${options.timeoutMs / 1000} s` : describe(error);
      return { exchange: { request, error: redact(why) } };
    }
    const shown = redact(text);
    return {
      exchange: { request, answer: recordAnswer(response, shown, redact) },
      answer: { status: response.status, headers: response.headers, text, shown, json: parseJson(text) },
    };
  };
  return { send, count: () => sent, redact };
}

function recordAnswer(response: Response, text: string, redact: (text: string) => string): ReceivedAnswer {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = redact(value);
  });
  const cut = text.length > MAX_RECORDED;
  return {
    status: response.status,
    headers,
    body: cut ? `${text.slice(0, MAX_RECORDED)}…` : text,
    ...(cut ? { truncated: true as const } : {}),
  };
}

/** The body as text, at most MAX_READ bytes of it: a provider streaming without end cannot fill memory. */
async function readUpTo(response: Response): Promise<string> {
  const { text, cut } = await readCapped(response, MAX_READ);
  return cut ? `${text}…` : text;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A fetch failure in a line: `fetch failed (ECONNREFUSED)`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail === '' ? error.message : `${error.message} (${detail})`;
}
