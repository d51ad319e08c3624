/**
 * @module adapters/lambda-events: the Request an AWS Lambda HTTP event describes (API Gateway
 * REST APIs and HTTP APIs in payload 1.0 and 2.0, Lambda Function URLs, Application Load
 * Balancers; their types in lambda-types.ts, the answer written back in lambda-result.ts).
 *
 * Written here rather than taken from `hono/aws-lambda`, which Hono has deprecated (it moves to
 * a package of its own in Hono 5) and which misses what a provider needs: it keeps a named
 * stage in an HTTP API's path (no route matches), turns an S3 or SQS event into a GET of `/`,
 * answers a body that is not base64 with a text 500, a malformed event with a text 400, and
 * caps nothing.
 */
import { ActionError } from '../src/index.ts';
import { isPlainObject } from '../src/model.ts';
import { escapedError } from './answers.ts';
import type { ReadEvent, ReplyShape } from './lambda-types.ts';

export interface ReadOptions {
  /** Drop an HTTP API's named stage from the front of the path. */
  stripStage: boolean;
  /** The request's signal (the invocation's deadline). */
  signal: AbortSignal | undefined;
}

/**
 * More than any AWS front forwards (an ALB allows 64 kB of headers, API Gateway 10 kB): an event
 * with more was made by hand, and is refused as Node's `serve()` refuses headers over 16 kB.
 */
export const MAX_HEADER_CHARS = 64 * 1024;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NON_ASCII = /[\u0080-\uffff]/;
// One character class and the padding, with the length checked apart: a group repeated per four
// characters costs the regex engine stack per repeat, and overflows it on a body of about 5 MB.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BODYLESS = new Set(['GET', 'HEAD']);

/** A character no header value may hold (HTAB may); Headers itself refuses only NUL, CR and LF. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** `name` if it is a header name (an HTTP token); Headers would throw a TypeError on any other. */
function checkedName(name: string): string {
  if (!TOKEN.test(name)) throw malformed('Invalid header name');
  return name;
}

/** A 400 for the event, thrown while reading it and answered in its shape. */
const malformed = (description: string) => new ActionError('BadActionRequest', description);

/**
 * Which source sent `event`. Anything that is no HTTP event (an S3, SQS or EventBridge event, a
 * string) throws a TypeError, so the invocation fails where it can be seen (an error in the logs
 * and metrics; a retry, then the dead-letter queue, for an asynchronous one) instead of
 * succeeding with an HTTP answer nobody reads, which would delete an SQS batch unprocessed.
 */
export function replyShape(event: unknown): ReplyShape {
  if (isPlainObject(event)) {
    const context = event['requestContext'];
    if (isPlainObject(context) && isPlainObject(context['elb']))
      return isPlainObject(event['multiValueHeaders']) ? 'alb-multi' : 'alb';
    if (event['version'] === '2.0' || 'rawPath' in event) return 'v2';
    if ('httpMethod' in event || event['version'] === '1.0') return 'v1';
    if (isPlainObject(context) && isPlainObject(context['http'])) return 'v2';
  }
  throw new TypeError(
    'lambdaHandler: the event is not an API Gateway, Function URL or ALB request (it has neither httpMethod nor rawPath)',
  );
}

/** `event` as a Request, or the 400 it gets; throws a TypeError for an event that is no HTTP request at all. */
export function readEvent(event: unknown, options: ReadOptions): ReadEvent {
  const reply = replyShape(event);
  try {
    return { reply, request: toRequest(event as Record<string, unknown>, reply, options) };
  } catch (error) {
    // An error of our own making is a bug: the logged generic 500, in the event's shape all the same.
    return { reply, refusal: error instanceof ActionError ? error.getResponse() : escapedError(error) };
  }
}

function toRequest(event: Record<string, unknown>, reply: ReplyShape, options: ReadOptions): Request {
  const context = isPlainObject(event['requestContext']) ? event['requestContext'] : {};
  const http = isPlainObject(context['http']) ? context['http'] : {};
  const method = reply === 'v2' ? http['method'] : event['httpMethod'];
  if (typeof method !== 'string' || method === '') {
    throw malformed(`The event has no ${reply === 'v2' ? 'requestContext.http.method' : 'httpMethod'}`);
  }
  const headers = requestHeaders(event, reply);
  const url = requestUrl(event, reply, context, headers, options.stripStage);
  const body = BODYLESS.has(method.toUpperCase()) ? undefined : requestBody(event);
  // The body is whole here: its true length replaces whatever the event claimed.
  headers.delete('transfer-encoding');
  if (body === undefined) headers.delete('content-length');
  else headers.set('content-length', String(body.byteLength));
  try {
    return new Request(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch {
    // Everything else was checked: the method is no token, or one Request refuses (CONNECT, TRACE).
    throw malformed('The event has an unsupported httpMethod');
  }
}

/** The path the provider routes on: a named stage dropped for HTTP APIs, whose paths keep it. */
function requestPath(
  event: Record<string, unknown>,
  reply: ReplyShape,
  context: Record<string, unknown>,
  strip: boolean,
) {
  const name = reply === 'v2' ? 'rawPath' : 'path';
  const path = event[name];
  if (typeof path !== 'string' || !path.startsWith('/')) throw malformed(`The event has no ${name} (a path from /)`);
  // REST APIs give `path` without the stage already (the custom domain's base path is the prefix option's).
  const httpApi = reply === 'v2' || (reply === 'v1' && event['version'] === '1.0');
  const stage = context['stage'];
  if (!strip || !httpApi || typeof stage !== 'string' || stage === '' || stage === '$default') return path;
  // Only when it is there: a request through a custom domain's API mapping has no stage in its path.
  if (path === `/${stage}` || path.startsWith(`/${stage}/`)) return path.slice(stage.length + 1) || '/';
  return path;
}

function requestUrl(
  event: Record<string, unknown>,
  reply: ReplyShape,
  context: Record<string, unknown>,
  headers: Headers,
  stripStage: boolean,
): URL {
  const path = requestPath(event, reply, context, stripStage);
  const domain = context['domainName'];
  const host = headers.get('host') ?? (typeof domain === 'string' && domain !== '' ? domain : 'localhost');
  // The scheme the client used (an ALB's HTTP listener forwards `http`); API Gateway is https only.
  const forwarded = headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme = forwarded === 'http' ? 'http' : 'https';
  let url: URL;
  try {
    // No userinfo, path, query or fragment may hide in a Host (`user@evil.example`, `h/../x`).
    if (/[\s/\\?#@]/.test(host)) throw new TypeError('host');
    url = new URL(`${scheme}://${host}`);
  } catch {
    throw malformed('Invalid Host header');
  }
  // The setters percent-encode what a URL cannot hold: a decoded `?` stays in the path.
  url.pathname = path;
  url.search = requestQuery(event, reply);
  return url;
}

function requestQuery(event: Record<string, unknown>, reply: ReplyShape): string {
  if (reply === 'v2') {
    const raw = event['rawQueryString'];
    if (raw !== undefined && raw !== null && typeof raw !== 'string')
      throw malformed('rawQueryString must be a string');
    return raw ?? '';
  }
  const pairs: [string, string][] = [];
  const multi = stringLists(event, 'multiValueQueryStringParameters');
  if (multi !== undefined) {
    for (const [key, values] of multi) for (const value of values) pairs.push([key, value]);
  } else {
    for (const [key, value] of stringEntries(event, 'queryStringParameters') ?? []) pairs.push([key, value]);
  }
  // An ALB passes parameters as the client encoded them; API Gateway decodes them.
  if (reply === 'alb' || reply === 'alb-multi') return pairs.map(([key, value]) => `${key}=${value}`).join('&');
  return new URLSearchParams(pairs).toString();
}

function requestHeaders(event: Record<string, unknown>, reply: ReplyShape): Headers {
  const headers = new Headers();
  let size = 0;
  const add = (name: string, value: string) => {
    size += name.length + value.length + 4; // `: ` and CRLF, as on the wire
    if (size > MAX_HEADER_CHARS) throw malformed(`The request headers are over ${MAX_HEADER_CHARS / 1024} kB`);
    if (hasControl(value)) throw malformed('A header value holds a control character');
    // Characters past ASCII become their UTF-8 bytes, as node:http would read them off the wire.
    headers.append(checkedName(name), NON_ASCII.test(value) ? byteString(value) : value);
  };
  // Payload 1.0 gives both maps: the multi-value one has every value, the other only the last.
  const multi = reply === 'v2' || reply === 'alb' ? undefined : stringLists(event, 'multiValueHeaders');
  for (const [name, values] of multi ?? []) for (const value of values) add(name, value);
  const single = reply === 'alb-multi' ? undefined : stringEntries(event, 'headers');
  for (const [name, value] of single ?? []) if (!headers.has(checkedName(name))) add(name, value);
  if (reply === 'v2' && event['cookies'] !== undefined) {
    const cookies = event['cookies'];
    if (!Array.isArray(cookies) || !cookies.every((cookie) => typeof cookie === 'string')) {
      throw malformed('cookies must be a list of strings');
    }
    if (cookies.length > 0) {
      const joined = cookies.join('; ');
      const existing = headers.get('cookie');
      headers.delete('cookie');
      add('cookie', existing === null ? joined : `${existing}; ${joined}`);
    }
  }
  return headers;
}

/** A map of strings (values missing or null skipped); undefined when the event has none; 400 otherwise. */
function stringEntries(event: Record<string, unknown>, key: string): [string, string][] | undefined {
  const map = event[key];
  if (map === undefined || map === null) return undefined;
  if (!isPlainObject(map)) throw malformed(`${key} must be an object`);
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(map)) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw malformed(`${key} values must be strings`);
    entries.push([name, value]);
  }
  return entries;
}

/** The multi-value form: a map of string lists. */
function stringLists(event: Record<string, unknown>, key: string): [string, string[]][] | undefined {
  const map = event[key];
  if (map === undefined || map === null) return undefined;
  if (!isPlainObject(map)) throw malformed(`${key} must be an object`);
  const entries: [string, string[]][] = [];
  for (const [name, values] of Object.entries(map)) {
    if (values === undefined || values === null) continue;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      throw malformed(`${key} values must be lists of strings`);
    }
    entries.push([name, values]);
  }
  return entries;
}

function requestBody(event: Record<string, unknown>): Uint8Array<ArrayBuffer> | undefined {
  const body = event['body'];
  const base64 = event['isBase64Encoded'];
  if (base64 !== undefined && base64 !== null && typeof base64 !== 'boolean') {
    throw malformed('isBase64Encoded must be a boolean');
  }
  if (body === undefined || body === null || body === '') return undefined;
  if (typeof body !== 'string') throw malformed('The event body must be a string');
  if (base64 !== true) return new TextEncoder().encode(body);
  // Strict: atob would skip whitespace and missing padding, which no AWS front sends.
  if (body.length % 4 !== 0 || !BASE64.test(body))
    throw malformed('The event body is marked isBase64Encoded but is not base64');
  const binary = atob(body);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `value`'s UTF-8 bytes as a string of one character per byte (what Headers accepts). */
function byteString(value: string): string {
  return latin1(new TextEncoder().encode(value));
}

/** `bytes` as a string of one character per byte (Latin-1). */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  // In slices: fromCharCode takes its bytes as arguments, and a call has a few hundred thousand at most.
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return out;
}
