/**
 * @module adapters/lambda-result: a Response written back in the shape its event's source
 * reads (payload 1.0, 2.0, ALB with or without multi-value headers).
 */
import { latin1 } from './lambda-events.ts';
import type { LambdaHttpResult, ReplyShape } from './lambda-types.ts';

/**
 * The body as Lambda carries it: text when it is UTF-8 (all of the provider's answers, which
 * are JSON), base64 otherwise. Base64 only when needed, because a REST API without binary media
 * types configured passes a base64 body to the client as it is, undecoded.
 */
async function resultBody(response: Response): Promise<{ body: string; isBase64Encoded: boolean }> {
  if (response.body === null) return { body: '', isBase64Encoded: false };
  const bytes = new Uint8Array(await response.arrayBuffer());
  try {
    // ignoreBOM keeps a leading BOM in the text, so the bytes are exactly the response's.
    return { body: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), isBase64Encoded: false };
  } catch {
    return { body: btoa(latin1(bytes)), isBase64Encoded: true };
  }
}

/** `response` in the shape `reply`: every header kept (Retry-After, WWW-Authenticate, Allow), Set-Cookie each on its own. */
export async function writeResult(response: Response, reply: ReplyShape): Promise<LambdaHttpResult> {
  const { body, isBase64Encoded } = await resultBody(response);
  const headers: Record<string, string> = {};
  // Iteration joins a repeated header with commas, except Set-Cookie, which getSetCookie lists.
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const cookies = response.headers.getSetCookie();
  const result = { statusCode: response.status, body, isBase64Encoded };
  if (reply === 'v2') return { ...result, headers, ...(cookies.length > 0 ? { cookies } : {}) };
  if (reply === 'v1') {
    return { ...result, headers, ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies } } : {}) };
  }
  const status = response.statusText === '' ? {} : { statusDescription: `${response.status} ${response.statusText}` };
  if (reply === 'alb-multi') {
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(headers)) multiValueHeaders[name] = [value];
    if (cookies.length > 0) multiValueHeaders['set-cookie'] = cookies;
    return { ...result, ...status, multiValueHeaders };
  }
  // Single-value ALB headers hold one Set-Cookie; a folded list would not parse as cookies.
  const [cookie] = cookies;
  return { ...result, ...status, headers: cookie === undefined ? headers : { ...headers, 'set-cookie': cookie } };
}
