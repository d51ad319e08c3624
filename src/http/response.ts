/** @module http/response: JSON responses with the CORS headers every answer carries. */

/** CORS headers sent on every response, so browser clients (the Globus web app) can read errors too. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': '*',
};

/** The headers of a JSON response without headers of its own (built once: this is every response's path). */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  ...CORS_HEADERS,
});

/**
 * A JSON response with exactly `headers` (JSON_HEADERS and more, built by the caller): a plain
 * object, which @hono/node-server writes as it is, where a header set afterwards would make it
 * build a Headers object for every answer.
 */
export function jsonResponseWith(body: unknown, status: number, headers: Readonly<Record<string, string>>): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
}

/** A JSON response with the CORS headers; `body` may be pre-serialised. */
export function jsonResponse(body: unknown, status: number, headers?: Readonly<Record<string, string>>): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers },
  });
}
