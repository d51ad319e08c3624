/**
 * @module http/body: reads a request body under a size limit, with memory and CPU bounded by
 * the limit however the body is framed.
 *
 * Hand-written instead of hono/body-limit: that middleware buffers and then rebuilds the
 * Request; here the bytes are read once into one buffer, and reading stops at the limit (a body
 * without a Content-Length is streamed and cut off there). A chunked body costs the server's
 * parser and this reader work per chunk, whatever the chunk's size: 1 MiB in 1-byte chunks cost
 * about 90 times the same bytes with a Content-Length (test/bench/body.ts), so a body arriving in
 * many tiny chunks is refused as soon as that shows.
 */
import { ActionError } from './errors.ts';

/** The description of the error a body cut off by the client raises (the client is gone: only a debug line sees it). */
export const BODY_CUT_OFF = 'The request body could not be read: the connection was closed';

/** Chunks always allowed; beyond them, chunks must average at least `MIN_AVERAGE_CHUNK` bytes. */
export const FREE_CHUNKS = 1024;
export const MIN_AVERAGE_CHUNK = 256;
const FIRST_BUFFER = 64 * 1024;

/** The body's bytes. 413 above `limit` bytes or in too many tiny chunks (without reading the rest). */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const length = request.headers.get('content-length');
  if (length !== null && Number(length) > limit) throw tooLarge(limit);
  try {
    if (length !== null && /^\d+$/.test(length)) {
      // A declared length within the limit: HTTP framing holds the body to it, so read it whole
      // (much cheaper than a stream on some servers: @hono/node-server reads the socket directly).
      // Re-checked, for an in-process Request whose header does not match its body.
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (bytes.byteLength > limit) throw tooLarge(limit);
      return bytes;
    }
    return request.body === null ? new Uint8Array(0) : await readStream(request.body, limit);
  } catch (error) {
    if (error instanceof ActionError) throw error;
    // Reading the request can only fail on the client's side: it went away mid-body.
    throw new ActionError('BadActionRequest', BODY_CUT_OFF, { cause: error });
  }
}

/** A stream's bytes in one buffer, grown by doubling (never past `limit`). */
async function readStream(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  let buffer = new Uint8Array(Math.min(limit, FIRST_BUFFER));
  let size = 0;
  for (let chunks = 1; ; chunks++) {
    const { done, value } = await reader.read();
    if (done) return buffer.subarray(0, size);
    const refusal =
      size + value.byteLength > limit
        ? tooLarge(limit)
        : chunks > FREE_CHUNKS && size + value.byteLength < chunks * MIN_AVERAGE_CHUNK
          ? tooFragmented()
          : undefined;
    if (refusal !== undefined) {
      await reader.cancel().catch(() => {});
      throw refusal;
    }
    if (size + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.min(limit, Math.max(buffer.byteLength * 2, size + value.byteLength)));
      grown.set(buffer.subarray(0, size));
      buffer = grown;
    }
    buffer.set(value, size);
    size += value.byteLength;
  }
}

function tooLarge(limit: number): ActionError {
  return new ActionError('PayloadTooLarge', `Request body exceeds the limit of ${limit} bytes`);
}

function tooFragmented(): ActionError {
  return new ActionError(
    'PayloadTooLarge',
    `Request body arrives in too many small chunks (beyond ${FREE_CHUNKS} chunks, at least ${MIN_AVERAGE_CHUNK} bytes each on average)`,
  );
}
