/**
 * @module test/support/socket: an HTTP/1.1 request written byte for byte over a real socket, for
 * what a fetch client would normalise away (chunk framing, invalid bytes, a client that leaves
 * mid-body).
 */
import { connect } from 'node:net';

export interface SocketReply {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** `head` lines (request line and headers, without the blank line) and a body already framed. */
export function rawRequest(head: string[], body: Buffer | string = ''): Buffer {
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

/** `body` in chunked transfer coding, `size` bytes a chunk. */
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

/**
 * Write `bytes` to `url`'s host in writes of at most 64 KiB (or only the first `stopAfter` bytes,
 * then close: a client leaving mid-body) and read the answer until the server closes.
 */
export function sendRaw(url: string, bytes: Buffer, options: { stopAfter?: number } = {}): Promise<SocketReply> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const received: Buffer[] = [];
  socket.on('data', (data) => received.push(data));
  socket.on('error', () => {}); // a refusal may close the connection while we still write
  return new Promise((resolve) => {
    socket.once('close', () => resolve(parseReply(Buffer.concat(received).toString('utf8'))));
    socket.once('connect', async () => {
      const end = Math.min(bytes.length, options.stopAfter ?? bytes.length);
      for (let offset = 0; offset < end && !socket.destroyed; offset += 1 << 16) {
        const more = socket.write(bytes.subarray(offset, Math.min(end, offset + (1 << 16))));
        if (!more) await new Promise((done) => socket.once('drain', done).once('close', done));
      }
      if (options.stopAfter !== undefined) socket.destroy();
    });
  });
}

function parseReply(raw: string): SocketReply {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: {}, text: raw };
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let text = raw.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') text = unchunk(text);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, text };
}

function unchunk(text: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
