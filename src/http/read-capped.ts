/**
 * @module http/read-capped: a response body as text, read only up to a number of bytes, so an
 * endless or huge body cannot fill memory. Shared by the client (which refuses a longer body)
 * and the checker (which records what it read).
 */

/** The text of the first `limit` bytes of `response`'s body, and whether there was more (then the rest is cancelled). */
export async function readCapped(response: Response, limit: number): Promise<{ text: string; cut: boolean }> {
  if (response.body === null) return { text: '', cut: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), cut: false };
    read += value.byteLength;
    if (read > limit) {
      await reader.cancel().catch(() => {});
      return { text: text + decoder.decode(value.subarray(0, value.byteLength - (read - limit))), cut: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}
