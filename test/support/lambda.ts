/**
 * @module test/support/lambda: AWS Lambda as the tests play it: an event made from one of the
 * fixtures in test/fixtures/aws-lambda for the request a test means, a context object like the
 * runtime's, the result read back as an HTTP reply; and a small local HTTP server that turns
 * each request into such an event, invokes a handler and writes its result back, checking it
 * as API Gateway or an ALB would (the Lambda runtime interface emulator's job, per source), so
 * the conformance suite can run against the Lambda adapter.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaContext, LambdaHttpEvent, LambdaHttpResult } from '../../adapters/aws-lambda.ts';
import type { Host } from './hosts.ts';
import { ROOT } from './processes.ts';

/** The fixtures, one per source (see test/fixtures/aws-lambda/README.md). */
export const EVENT_KINDS = [
  'rest-api',
  'http-api-v1',
  'http-api-v2',
  'http-api-v2-stage',
  'function-url',
  'alb',
  'alb-multi-value',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The named stage each fixture's API is deployed on (its client URLs start with it). */
export const STAGES: Partial<Record<EventKind, string>> = {
  'rest-api': 'prod',
  'http-api-v1': 'live',
  'http-api-v2-stage': 'live',
};

/** Which result shape each source reads. */
export const REPLY: Record<EventKind, 'v1' | 'v2' | 'alb' | 'alb-multi'> = {
  'rest-api': 'v1',
  'http-api-v1': 'v1',
  'http-api-v2': 'v2',
  'http-api-v2-stage': 'v2',
  'function-url': 'v2',
  alb: 'alb',
  'alb-multi-value': 'alb-multi',
};

type Json = Record<string, unknown>;

/** A fresh copy of a fixture. */
export function fixture(kind: EventKind): Json {
  return JSON.parse(readFileSync(`${ROOT}test/fixtures/aws-lambda/${kind}.json`, 'utf8')) as Json;
}

/** A request as a client makes it, before a source turns it into an event. */
export interface Call {
  method?: string;
  /** The path after the API's stage (the provider's path). */
  path?: string;
  /** Without `?`, as the client sent it (encoded). */
  query?: string;
  /** Replaces the fixture's headers; a list for a repeated header. */
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
  /** Send the body base64-encoded (always, for a Uint8Array). */
  base64?: boolean;
}

const base64 = (body: string | Uint8Array) => Buffer.from(body).toString('base64');

/** `call` as `kind`'s source delivers it, on that source's fixture. */
export function lambdaEvent(kind: EventKind, call: Call = {}): LambdaHttpEvent {
  const event = fixture(kind);
  const method = call.method ?? 'GET';
  const path = call.path ?? '/';
  const stage = STAGES[kind];
  const context = event['requestContext'] as Json;
  const headers = Object.entries(call.headers ?? {}).map(([name, value]): [string, string[]] => [
    name,
    Array.isArray(value) ? value : [value],
  ]);
  const query = call.query ?? '';
  const decoded = [...new URLSearchParams(query)];
  const raw = query === '' ? [] : query.split('&').map((pair) => [pair.split('=')[0] ?? '', pair.split('=')[1] ?? '']);
  const lists = (pairs: string[][]) => {
    const map: Record<string, string[]> = {};
    for (const [key = '', value = ''] of pairs) map[key] = [...(map[key] ?? []), value];
    return map;
  };
  const last = (map: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(map).map(([key, values]) => [key, values.at(-1) ?? '']));
  if (call.headers !== undefined) {
    if (kind === 'rest-api' || kind === 'http-api-v1') {
      event['multiValueHeaders'] = Object.fromEntries(headers);
      event['headers'] = Object.fromEntries(headers.map(([name, values]) => [name, values.at(-1)]));
    } else if (kind === 'alb-multi-value') {
      event['multiValueHeaders'] = Object.fromEntries(headers.map(([name, values]) => [name.toLowerCase(), values]));
    } else {
      const lower = headers.map(([name, values]): [string, string[]] => [name.toLowerCase(), values]);
      const cookies = lower.filter(([name]) => name === 'cookie').flatMap(([, values]) => values);
      const isV2 = REPLY[kind] === 'v2';
      // Payload 2.0 moves cookies to their own list and joins other repeats with commas.
      // An ALB without multi-value headers passes the last value of a repeated one.
      event['headers'] = Object.fromEntries(
        lower
          .filter(([name]) => !(isV2 && name === 'cookie'))
          .map(([name, values]) => [name, isV2 ? values.join(',') : values.at(-1)]),
      );
      if (isV2) {
        if (cookies.length > 0) event['cookies'] = cookies.flatMap((cookie) => cookie.split('; '));
        else delete event['cookies'];
      }
    }
  }
  switch (kind) {
    case 'rest-api':
    case 'http-api-v1': {
      // REST: `path` without the stage, `requestContext.path` with it. HTTP API 1.0: both with it.
      const full = stage === undefined ? path : `/${stage}${path}`;
      event['path'] = kind === 'rest-api' ? path : full;
      event['httpMethod'] = method;
      Object.assign(context, { path: full, httpMethod: method });
      const multi = lists(decoded);
      event['multiValueQueryStringParameters'] = decoded.length === 0 ? null : multi;
      event['queryStringParameters'] = decoded.length === 0 ? null : last(multi);
      break;
    }
    case 'http-api-v2':
    case 'http-api-v2-stage':
    case 'function-url': {
      const full = stage === undefined ? path : `/${stage}${path}`;
      event['rawPath'] = full;
      event['rawQueryString'] = query;
      Object.assign(context['http'] as Json, { method, path: full });
      if (decoded.length > 0) {
        event['queryStringParameters'] = Object.fromEntries(
          Object.entries(lists(decoded)).map(([key, values]) => [key, values.join(',')]),
        );
      }
      break;
    }
    case 'alb':
    case 'alb-multi-value': {
      event['path'] = path;
      event['httpMethod'] = method;
      // An ALB leaves parameters as the client encoded them.
      if (kind === 'alb') event['queryStringParameters'] = last(lists(raw));
      else event['multiValueQueryStringParameters'] = lists(raw);
      break;
    }
  }
  if (call.body !== undefined) {
    const encoded = call.base64 === true || call.body instanceof Uint8Array;
    event['body'] = encoded ? base64(call.body) : call.body;
    event['isBase64Encoded'] = encoded;
  }
  return event as unknown as LambdaHttpEvent;
}

/** A context object like the runtime's, for an invocation of `timeoutMs`. */
export function lambdaContext(timeoutMs = 30_000): LambdaContext & Record<string, unknown> {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'action-provider',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:action-provider',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/action-provider',
    logStreamName: '2026/05/24/[$LATEST]0123456789abcdef0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** A result read back as a client would see it (what API Gateway or the ALB makes of it). */
export interface LambdaReply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
  bytes: Uint8Array;
}

/** The headers and body a source sends for `result`, checked as it checks them; throws where it would answer 502. */
export function readResult(kind: EventKind, result: LambdaHttpResult): LambdaReply {
  const shape = REPLY[kind];
  const { statusCode, body, isBase64Encoded } = result;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    throw new Error(`bad statusCode ${statusCode}`);
  if (typeof body !== 'string' || typeof isBase64Encoded !== 'boolean') throw new Error('bad body or isBase64Encoded');
  const headers = new Headers();
  const single = (result as { headers?: unknown }).headers;
  const multi = (result as { multiValueHeaders?: unknown }).multiValueHeaders;
  const strings = (map: unknown) => {
    if (map === undefined) return [];
    if (typeof map !== 'object' || map === null) throw new Error('headers must be an object');
    return Object.entries(map as Record<string, unknown>).map(([name, value]) => {
      if (typeof value !== 'string') throw new Error(`header ${name} is no string`);
      return [name, value] as const;
    });
  };
  const lists = (map: unknown) => {
    if (map === undefined) return [];
    if (typeof map !== 'object' || map === null) throw new Error('multiValueHeaders must be an object');
    return Object.entries(map as Record<string, unknown>).map(([name, values]) => {
      if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) throw new Error(`${name}`);
      return [name, values as string[]] as const;
    });
  };
  if (shape === 'v2') {
    if (multi !== undefined) throw new Error('payload 2.0 has no multiValueHeaders: they would be lost');
    for (const [name, value] of strings(single)) headers.set(name, value);
    const cookies = (result as { cookies?: unknown }).cookies;
    if (cookies !== undefined && !(Array.isArray(cookies) && cookies.every((c) => typeof c === 'string'))) {
      throw new Error('cookies must be strings');
    }
    for (const cookie of (cookies as string[] | undefined) ?? []) headers.append('set-cookie', cookie);
  } else if (shape === 'alb-multi') {
    if (multi === undefined) throw new Error('an ALB with multi-value headers reads multiValueHeaders');
    for (const [name, values] of lists(multi)) for (const value of values) headers.append(name, value);
  } else if (shape === 'alb') {
    for (const [name, value] of strings(single)) headers.set(name, value);
  } else {
    // API Gateway merges both maps; for a name in both, multiValueHeaders wins.
    const many = lists(multi);
    for (const [name, value] of strings(single))
      if (!many.some(([other]) => other.toLowerCase() === name.toLowerCase())) headers.set(name, value);
    for (const [name, values] of many) for (const value of values) headers.append(name, value);
  }
  const bytes = isBase64Encoded ? new Uint8Array(Buffer.from(body, 'base64')) : new TextEncoder().encode(body);
  const text = new TextDecoder().decode(bytes);
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: statusCode, headers, text, body: json, bytes };
}

/** The content types a Function URL or an HTTP API passes as text (the rest arrive base64). */
const TEXTUAL = /^(?:text\/|application\/(?:json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(?:json|xml))/i;

async function received(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A local HTTP server in front of `handler`, delivering each request as `kind`'s source does:
 * the stage in the URL (404 without it), headers as the source passes them (a REST API with
 * the client's header case), bodies as text or base64 (a REST API with binary media types
 * `*\/*`: all base64; the others by content type), the result checked and written back.
 */
export async function lambdaHost(
  handler: (event: LambdaHttpEvent, context: LambdaContext) => Promise<LambdaHttpResult>,
  kind: EventKind,
): Promise<Host> {
  const stage = STAGES[kind];
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? '/', 'http://emulator');
    let path = target.pathname;
    if (stage !== undefined) {
      if (path !== `/${stage}` && !path.startsWith(`/${stage}/`)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      path = path.slice(stage.length + 1) || '/';
    }
    const headers: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const raw = req.rawHeaders[i] as string;
      const name = kind === 'rest-api' ? raw : raw.toLowerCase();
      headers[name] = [...(headers[name] ?? []), req.rawHeaders[i + 1] as string];
    }
    headers[kind === 'rest-api' ? 'X-Forwarded-Proto' : 'x-forwarded-proto'] = ['https'];
    const bytes = await received(req);
    const type = req.headers['content-type'] ?? '';
    const binary = kind === 'rest-api' || !TEXTUAL.test(type);
    const call: Call = {
      method: req.method ?? 'GET',
      path,
      query: target.search.slice(1),
      headers,
      ...(bytes.length === 0 ? {} : binary ? { body: new Uint8Array(bytes) } : { body: bytes.toString('utf8') }),
    };
    let reply: LambdaReply;
    try {
      reply = readResult(kind, await handler(lambdaEvent(kind, call), lambdaContext()));
    } catch (error) {
      // What API Gateway answers for a function that failed or answered in the wrong shape.
      res.writeHead(502, { 'content-type': 'application/json', 'x-emulator-error': String(error).slice(0, 200) });
      res.end('{"message":"Internal server error"}');
      return;
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of reply.headers) if (name !== 'set-cookie') out[name] = value;
    const cookies = reply.headers.getSetCookie();
    if (cookies.length > 0) out['set-cookie'] = cookies;
    res.writeHead(reply.status, out);
    res.end(req.method === 'HEAD' ? undefined : Buffer.from(reply.bytes));
  };
  const server = createServer((req, res) => void listener(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${stage === undefined ? '' : `/${stage}`}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
