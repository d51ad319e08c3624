/**
 * @module adapters/express-health: the health routes as Express middleware (`expressHealth`),
 * for the host's root: Express shows a mounted handler only the requests under its mount, so
 * the routes outside the provider's prefix need a handler of their own.
 */
import type { HealthOption } from './contract.ts';
import type { RequestHandler } from './express.ts';
import { healthAnswer, healthRoutes, isHealthPath } from './health.ts';
import { type FetchProvider, nodeListener } from './node.ts';

/**
 * The health routes as Express middleware, for the host's root (Express hides everything outside
 * a mount from the provider's): `GET`/`HEAD` `/livez` and `/readyz` unless told (see
 * `HealthOption`), every other path on to the next handler. Under a mount of its own
 * (`app.use('/ops', ...)`) they are `/ops/livez` and `/ops/readyz`.
 *
 * @example
 * ```ts
 * app.use(expressHealth(provider))
 * app.use('/echo', expressMiddleware(provider))
 * ```
 */
export function expressHealth(provider: FetchProvider, health: Exclude<HealthOption, false> = true): RequestHandler {
  const paths = healthRoutes(health, undefined);
  if (paths === undefined) throw new TypeError('expressHealth: health must be true or { live, ready, timeout }');
  const listener = nodeListener({ fetch: healthAnswer(provider, paths) });
  return (req, res, next) => {
    if (!isHealthPath(paths, req.url ?? '/')) return next();
    listener(req, res).catch(next);
  };
}
