/**
 * @module adapters/cloudflare-workers: a Worker from a provider, or from an `(env) => provider`
 * factory so secrets can arrive as bindings. The provider is built once per isolate; the
 * Worker's `ctx.waitUntil` reaches callbacks as `waitUntil`.
 */
import { withPrefix } from './prefix.ts';

/** The parts of the Workers runtime types used here (so the package needs no Workers types). */
export interface WorkerExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

export interface WorkerProvider {
  fetch(request: Request, env?: unknown, executionContext?: unknown): Response | Promise<Response>;
}

export interface WorkerOptions {
  /** Serve under this path, e.g. `/echo`. */
  prefix?: string;
}

export interface ProviderWorker<Env> {
  fetch(request: Request, env: Env, ctx: WorkerExecutionContext): Promise<Response>;
}

/**
 * @example
 * ```ts
 * export default worker((env: Env) => echoProvider({ auth: globusAuth({ clientId: env.GLOBUS_CLIENT_ID, clientSecret: env.GLOBUS_CLIENT_SECRET }) }))
 * ```
 */
export function worker<Env = Record<string, unknown>>(
  source: WorkerProvider | ((env: Env) => WorkerProvider | Promise<WorkerProvider>),
  options: WorkerOptions = {},
): ProviderWorker<Env> {
  let built: Promise<(request: Request, env: Env, ctx: WorkerExecutionContext) => Response | Promise<Response>> | undefined;
  const build = (env: Env) =>
    Promise.resolve(typeof source === 'function' ? source(env) : source).then((provider) => {
      if (typeof provider?.fetch !== 'function') throw new TypeError('worker: the factory must return a provider');
      return withPrefix((request: Request, e: Env, ctx: WorkerExecutionContext) => provider.fetch(request, e, ctx), options.prefix);
    });
  return {
    async fetch(request, env, ctx) {
      built ??= build(env).catch((error: unknown) => {
        built = undefined; // a failed build (a missing secret, say) is retried by the next request
        throw error;
      });
      return (await built)(request, env, ctx);
    },
  };
}
