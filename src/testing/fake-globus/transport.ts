/**
 * @module testing/fake-globus/transport: the fake as a `fetch` to inject (a real HTTP server on
 * 127.0.0.1 is `listen` in testing/node.ts, kept apart so this entry bundles for Workers and browsers).
 */
import type { Hono } from 'hono';

/**
 * A fetch answered by `app` whatever the host, honouring the caller's AbortSignal (timeouts)
 * the way a real fetch does.
 *
 * @example
 * ```ts
 * const fetch = injectedFetch(fakeGlobusApp(state))
 * ```
 */
export function injectedFetch(app: Hono): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (init?.signal?.aborted) throw init.signal.reason;
    const answer = Promise.resolve(app.fetch(request));
    if (!init?.signal) return answer;
    const signal = init.signal;
    return Promise.race([
      answer,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  }) as typeof fetch;
}
