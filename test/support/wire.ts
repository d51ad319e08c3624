/**
 * @module test/support/wire: bytes of one's own over a real socket (node:net), for what no
 * fetch client sends: a bad Host, a backslash or absolute-form target, TRACE and CONNECT, a
 * malformed request line, a request cut off mid-body; and the first answer as it arrived.
 */
import { connect } from 'node:net';

export interface WireReply {
  /** 0 when nothing came back. */
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
  /** The JSON body; undefined when empty or not JSON. */
  body: any;
  /** Whether the server closed the connection (rather than the wait running out). */
  closed: boolean;
  /** Everything received. */
  raw: string;
}

export interface WireOptions {
  /** How long to wait for the server to close the connection; default 5 s. */
  timeout?: number;
  /** Resolve once one whole response has arrived instead of waiting for the close. */
  untilResponse?: boolean;
  /** Send only this many bytes, then drop the connection: a client leaving mid-body. */
  stopAfter?: number;
}

/** The end of the first response's body in `raw`, or -1 while it is incomplete. */
function responseEnd(raw: string, headEnd: number, headers: Record<string, string>): number {
  const start = headEnd + 4;
  if (headers['transfer-encoding'] === 'chunked') {
    const end = raw.indexOf('\r\n0\r\n\r\n', start - 2);
    return end === -1 ? -1 : end + 7;
  }
  const length = Number(headers['content-length'] ?? 0);
  return raw.length >= start + length ? start + length : -1;
}

function parse(raw: string, closed: boolean): WireReply {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) return { status: 0, headers: {}, text: '', body: undefined, closed, raw };
  const [statusLine = '', ...lines] = raw.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const end = responseEnd(raw, headEnd, headers);
  let text = raw.slice(headEnd + 4, end === -1 ? undefined : end);
  if (headers['transfer-encoding'] === 'chunked') text = unchunk(text);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text, body, closed, raw };
}

function unchunk(text: string): string {
  let out = '';
  for (let at = 0; at < text.length; ) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) break;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
  return out;
}

/** Send `bytes` to `port` on 127.0.0.1 and read the answer. */
export function exchange(port: number, bytes: string | Buffer, options: WireOptions = {}): Promise<WireReply> {
  const { timeout = 5_000, untilResponse = false, stopAfter } = options;
  return new Promise((resolve) => {
    let raw = '';
    const socket = connect(port, '127.0.0.1', () => {
      if (stopAfter === undefined) socket.write(bytes);
      else socket.write(Buffer.from(bytes).subarray(0, stopAfter), () => socket.destroy());
    });
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(raw, closed));
    };
    const timer = setTimeout(() => finish(false), timeout);
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
      if (untilResponse && parse(raw, false).status !== 0) {
        const headEnd = raw.indexOf('\r\n\r\n');
        if (responseEnd(raw, headEnd, parse(raw, false).headers) !== -1) finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {}); // a reset ends in 'close' too
  });
}

/** A request head (origin-form unless `target` says otherwise), `Connection: close` unless `headers` has one. */
export function head(
  method: string,
  target: string,
  headers: Record<string, string> = { host: 'provider.test' },
): string {
  const all = { connection: 'close', ...headers };
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}

/** `body` in chunked transfer coding, `size` bytes a chunk, with the closing chunk. */
export function chunked(body: Buffer | string, size: number): Buffer {
  const bytes = Buffer.from(body);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const piece = bytes.subarray(offset, offset + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
