/**
 * @module testing/node: serve a fetch handler (the fake Globus's `app`, a provider) on a real
 * port of 127.0.0.1, through @hono/node-server (Node; Bun and Deno run it too). Kept out of
 * `globus-action-provider/testing` so that entry bundles for Workers and browsers.
 */
import { serve } from '@hono/node-server';

/** Anything with a Web-standard fetch: a Hono app, a provider. */
export interface FetchHandler {
  fetch(request: Request, ...rest: never[]): Response | Promise<Response>;
}

/**
 * Serves `handler` on a port of 127.0.0.1 (0, the default: any free one).
 *
 * @example
 * ```ts
 * const globus = fakeGlobus()
 * const { url, close } = await listen(globus.app)
 * const auth = globusAuth(globus.authOptions(url))
 * ```
 */
export function listen(handler: FetchHandler, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    return Promise.reject(new TypeError('listen: port must be a whole number from 0 to 65535'));
  }
  return new Promise((resolve, reject) => {
    // The server's bindings go along: the fake drops a connection ('reset') through them.
    const fetch = (request: Request, bindings: unknown) => handler.fetch(request, bindings as never);
    const server = serve({ fetch, port, hostname: '127.0.0.1', overrideGlobalObjects: false }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
