/**
 * @module test/fuzz/request: what a generator produces. A request is data, printable as a
 * reproducer; its tokens and action ids are placeholders (`{{token:creator}}`, `{{id:3}}`)
 * filled in when it is sent, because keys and ids are new in every run while the generated
 * request must stay the same for a seed.
 */

/** How the body goes on the wire. */
export type Framing =
  /** Content-Length matching the body (or no body at all). */
  | 'length'
  /** Transfer-Encoding: chunked, the body in a few pieces. */
  | 'chunked'
  /** Content-Length larger than the body, then the client gives up: no answer is owed. */
  | 'truncated';

/** What the credential should mean to the provider. */
export type Credential =
  /** A token the provider must accept (possibly in an unusual but valid spelling). */
  | 'valid'
  /** No credential, or one the provider must refuse: a 2xx on a protected route is an auth bypass. */
  | 'invalid'
  /** Spellings the contract does not settle (two schemes, trailing junk): no auth oracle. */
  | 'ambiguous';

export interface FuzzRequest {
  /** What is unusual about it (`release_after=huge-digit-run`, `id=nul`): findings are grouped by these. */
  features: string[];
  method: string;
  /** Path and query under the target's base, with `{{id:N}}` placeholders. */
  path: string;
  /** Headers in order, values with `{{token:NAME}}` placeholders. */
  headers: [string, string][];
  credential: Credential;
  body: Uint8Array | undefined;
  framing: Framing;
  /** The route template aimed at (`/{id}/status`), or the kind of path (`near-miss:/run/`). */
  route: string;
  /**
   * About the HTTP server itself rather than the provider: framing Node's parser rejects (a
   * malformed Content-Length, an unknown method) or request targets that are no path (`*`,
   * absolute-form). Behind `serve()` these are the adapter's to answer; under Express the
   * host's, so the Express targets skip them.
   */
  serverLevel?: true;
}

/** A request with its placeholders filled in: what goes on the wire. */
export interface WireRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
  framing: Framing;
}

/** What fills the placeholders: tokens by name, and the action ids seeded for this batch. */
export interface Fillers {
  tokens: Readonly<Record<string, string>>;
  ids: readonly string[];
}

const TOKEN = /\{\{token:([a-z-]+)\}\}/g;
const ID = /\{\{id:(\d+)\}\}/g;
const DEADLINE = /\{\{deadline:\+(-?\d+)\}\}/g;

/** Fill in tokens, ids and deadlines (relative to `now`). */
export function fill(request: FuzzRequest, fillers: Fillers, now = Date.now()): WireRequest {
  const token = (_: string, name: string) => fillers.tokens[name] ?? `unknown-token-${name}`;
  const id = (_: string, n: string) =>
    fillers.ids.length === 0 ? 'no-ids' : encodeURIComponent(fillers.ids[Number(n) % fillers.ids.length] as string);
  return {
    method: request.method,
    path: request.path.replace(ID, id),
    headers: request.headers.map(([name, value]) => [name, value.replace(TOKEN, token)]),
    body: request.body === undefined ? undefined : fillDeadlines(request.body, now),
    framing: request.framing,
  };
}

/** Deadlines sit in the body as ASCII placeholders; latin1 round-trips every other byte unchanged. */
function fillDeadlines(body: Uint8Array, now: number): Uint8Array {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buffer.indexOf('{{deadline:') < 0) return body;
  const text = buffer
    .toString('latin1')
    .replace(DEADLINE, (_, s: string) => new Date(now + Number(s) * 1000).toISOString());
  return new Uint8Array(Buffer.from(text, 'latin1'));
}
