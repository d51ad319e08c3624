/**
 * @module opentelemetry/server-span: the span and the duration of one request, with the HTTP
 * semantic conventions' attributes. What depends only on the route (the span's name, its fixed
 * attributes, the metric's attributes per status) is made once per route and kept, so a request
 * builds one attribute object for its span and nothing for its metric.
 */
import {
  type Attributes,
  type Context,
  context,
  type Exception,
  isValidTraceId,
  type Span,
  SpanStatusCode,
} from '@opentelemetry/api';
import type { RequestEnd, RequestTelemetry } from '../observe/telemetry.ts';
import { ACTION_ID, ERROR_CODE, type Instruments, OPERATION } from './instruments.ts';

/** The methods the semantic conventions name; any other is `_OTHER` (a client cannot grow the set). */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);

/** What the spans and durations of one route and method share. */
export class RouteEntry {
  /** `GET /actions/:id`; `GET` without a route; `HTTP` for a method outside the known ones. */
  readonly name: string;
  /** The span's fixed attributes: method, route, operation. */
  readonly attributes: Attributes;
  readonly method: string;
  readonly route: string | undefined;
  readonly operation: string | undefined;
  /** The duration's attributes, by `status * 2 + (https ? 1 : 0)`: a handful of statuses per route. */
  readonly #measured = new Map<number, Attributes>();

  constructor(method: string, route: string | undefined, operation: string | undefined) {
    this.method = method;
    this.route = route;
    this.operation = operation;
    this.name = method === '_OTHER' ? 'HTTP' : route === undefined ? method : `${method} ${route}`;
    const attributes: Attributes = { 'http.request.method': method };
    if (route !== undefined) attributes['http.route'] = route;
    if (operation !== undefined) attributes[OPERATION] = operation;
    this.attributes = attributes;
  }

  /** The duration's attributes for an answer of `status`; `errorType` for a 5xx. */
  measured(status: number, https: boolean, errorType: string | undefined): Attributes {
    if (errorType !== undefined) return { ...this.#base(status, https), 'error.type': errorType };
    const key = status * 2 + (https ? 1 : 0);
    let attributes = this.#measured.get(key);
    if (attributes === undefined) {
      attributes = this.#base(status, https);
      this.#measured.set(key, attributes);
    }
    return attributes;
  }

  #base(status: number, https: boolean): Attributes {
    return { ...this.attributes, 'http.response.status_code': status, 'url.scheme': https ? 'https' : 'http' };
  }
}

/** The route entries of one `openTelemetry()`, made as requests first reach each route. */
export function routeEntries(): (
  method: string,
  route: string | undefined,
  operation: string | undefined,
) => RouteEntry {
  const byRoute = new Map<string | undefined, Map<string, RouteEntry>>();
  return (method, route, operation) => {
    const known = KNOWN_METHODS.has(method) ? method : '_OTHER';
    let byMethod = byRoute.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      byRoute.set(route, byMethod);
    }
    let entry = byMethod.get(known);
    if (entry === undefined || entry.operation !== operation) {
      entry = new RouteEntry(known, route, operation);
      byMethod.set(known, entry);
    }
    return entry;
  };
}

/**
 * The span's attributes of one request: the route's, and what its URL and headers say. Read
 * from the URL without parsing it whole (`new URL` costs more than the rest of this): scheme,
 * host and port, and the path without its query string, which is never recorded (a caller may
 * put anything there).
 */
export function requestAttributes(request: Request, entry: RouteEntry): { attributes: Attributes; https: boolean } {
  const { url } = request;
  const schemeEnd = url.indexOf('://');
  const scheme = url.slice(0, schemeEnd);
  const hostStart = schemeEnd + 3;
  let pathStart = url.indexOf('/', hostStart);
  if (pathStart === -1) pathStart = url.length;
  let pathEnd = url.indexOf('?', pathStart);
  if (pathEnd === -1) pathEnd = url.length;
  const host = url.slice(hostStart, pathStart);
  // The port follows the last colon, unless that colon is inside an IPv6 address's brackets.
  const colon = host.lastIndexOf(':');
  const hasPort = colon !== -1 && colon > host.lastIndexOf(']');
  const address = hasPort ? host.slice(0, colon) : host;
  const https = scheme === 'https';
  const attributes: Attributes = {
    ...entry.attributes,
    'url.scheme': scheme,
    'url.path': pathStart === pathEnd ? '/' : url.slice(pathStart, pathEnd),
    'server.address': address.startsWith('[') ? address.slice(1, -1) : address,
    'server.port': hasPort ? Number(host.slice(colon + 1)) : https ? 443 : 80,
  };
  if (entry.method === '_OTHER') attributes['http.request.method_original'] = request.method;
  const agent = request.headers.get('user-agent');
  if (agent !== null) attributes['user_agent.original'] = agent;
  return { attributes, https };
}

/** One request's span, the context its handling runs in, and when it started. */
export class RequestSpan implements RequestTelemetry {
  readonly traceId: string | undefined;
  readonly #span: Span;
  readonly #context: Context;
  readonly #started: number;
  readonly #entry: RouteEntry;
  readonly #https: boolean;
  readonly #instruments: Instruments;

  constructor(
    span: Span,
    within: Context,
    started: number,
    entry: RouteEntry,
    https: boolean,
    instruments: Instruments,
  ) {
    this.#span = span;
    this.#context = within;
    this.#started = started;
    this.#entry = entry;
    this.#https = https;
    this.#instruments = instruments;
    const { traceId } = span.spanContext();
    this.traceId = isValidTraceId(traceId) ? traceId : undefined;
  }

  run<T>(handle: () => T): T {
    return context.with(this.#context, handle);
  }

  end({ status, actionId, code, error }: RequestEnd): void {
    const span = this.#span;
    // A 4xx is the caller's doing: on a server span it is no error (semantic conventions).
    const errorType = status >= 500 ? (code ?? String(status)) : undefined;
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', status);
      if (actionId !== undefined) span.setAttribute(ACTION_ID, actionId);
      if (code !== undefined) span.setAttribute(ERROR_CODE, code);
      if (errorType !== undefined) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
        if (error !== undefined) span.recordException(error as Exception);
      }
    }
    span.end();
    this.#instruments.requestDuration.record(
      (performance.now() - this.#started) / 1000,
      this.#entry.measured(status, this.#https, errorType),
    );
  }
}
