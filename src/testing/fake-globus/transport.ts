/**
 * @module testing/fake-globus/transport: the two ways to reach the fake: a `fetch` to inject,
 * or a real HTTP server on 127.0.0.1.
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

/**
 * Serves `app` on a port of 127.0.0.1 (0: any free one) through @hono/node-server, loaded only
 * when asked for so the injected fetch needs no Node APIs.
 *
 * @example
 * ```ts
 * const { url, close } = await listen(app, 0)
 * ```
 */
export async function listen(app: Hono, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const { serve } = await import('@hono/node-server');
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1', overrideGlobalObjects: false }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
  });
}
