/**
 * @module body: reads a JSON request body under a size limit.
 *
 * Hand-written instead of hono/body-limit: that middleware buffers and then rebuilds the
 * Request; here the bytes are read once, decoded once, and reading stops at the limit (a body
 * without a Content-Length is streamed and cut off there).
 */
import { ActionError } from './errors.ts';

const decoder = new TextDecoder();

/** The parsed body. 413 above `limit` bytes (without reading the rest); 400 for invalid JSON or an empty body. */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const length = request.headers.get('content-length');
  if (length !== null && Number(length) > limit) throw tooLarge(limit);
  let text = '';
  if (length !== null && /^\d+$/.test(length)) {
    // A declared length within the limit: HTTP framing holds the body to it, so read it whole
    // (much cheaper than a stream on some servers: @hono/node-server reads the socket directly).
    // Re-checked, for an in-process Request whose header does not match its body.
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > limit) throw tooLarge(limit);
    text = decoder.decode(bytes);
  } else if (request.body !== null) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
    if (chunks.length === 1) text = decoder.decode(chunks[0]);
    else if (chunks.length > 1) {
      const all = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.byteLength;
      }
      text = decoder.decode(all);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ActionError('BadActionRequest', 'Invalid JSON');
  }
}

function tooLarge(limit: number): ActionError {
  return new ActionError('PayloadTooLarge', `Request body exceeds the limit of ${limit} bytes`);
}
