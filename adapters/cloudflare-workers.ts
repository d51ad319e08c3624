/**
 * @module adapters/cloudflare-workers: a Worker from a provider, or from an `(env) => provider`
 * factory so secrets and D1 arrive as bindings. The provider is built once per isolate; the
 * Worker's `ctx.waitUntil` reaches callbacks as `waitUntil`; a Cron Trigger runs the expiry
 * sweep through the `scheduled` handler, and wakes background work whose wake-up was lost.
 * Background work itself runs in the Durable Object class `actionWorkObject()` makes.
 */
import { WORK_WAKE } from '../src/work/types.ts';
import { escapedError } from './answers.ts';
import type { ProviderWorker, WorkerExecutionContext, WorkerOptions, WorkerProvider } from './contract.ts';
import { healthRoutes, withHealth } from './health.ts';
import { withPrefix } from './prefix.ts';

export { type ActionWorkObjectClass, actionWorkObject } from './cloudflare-work-object.ts';
export type {
  ActionWorkObject,
  DurableObjectStateLike,
  HealthOption,
  HealthRoutes,
  ProviderWorker,
  WorkerExecutionContext,
  WorkerOptions,
  WorkerProvider,
  WorkObjectOptions,
} from './contract.ts';

interface Built<Env> {
  provider: WorkerProvider;
  handle: (request: Request, env: Env, ctx: WorkerExecutionContext) => Response | Promise<Response>;
}

/**
 * @example
 * ```ts
 * export default worker(async (env: Env) => echoProvider({
 *   auth: globusAuth({ clientId: env.GLOBUS_CLIENT_ID, clientSecret: env.GLOBUS_CLIENT_SECRET }),
 *   store: await d1Store(env.DB),
 * }))
 * ```
 */
export function worker<Env = Record<string, unknown>>(
  source: WorkerProvider | ((env: Env) => WorkerProvider | Promise<WorkerProvider>),
  options: WorkerOptions = {},
): ProviderWorker<Env> {
  const paths = healthRoutes(options.health, options.prefix ?? ''); // a clash throws here, not at the first request
  let built: Promise<Built<Env>> | undefined;
  const build = (env: Env): Promise<Built<Env>> => {
    built ??= Promise.resolve(typeof source === 'function' ? source(env) : source)
      .then((provider) => {
        if (typeof provider?.fetch !== 'function') throw new TypeError('worker: the factory must return a provider');
        // Background work on a timer would stop with the request that started it (and the
        // isolate may go at any time): on Workers only a Durable Object's alarm runs it.
        if (provider.worker !== undefined && provider.worker[WORK_WAKE] === undefined) {
          throw new TypeError(
            'worker: background work on Workers runs in a Durable Object per action: open the store with d1Store(env.DB, { work: env.ACTION_WORK }) and export actionWorkObject(...) as its class',
          );
        }
        const under = withHealth(provider, withPrefix(provider, options.prefix), paths);
        const handle = (request: Request, e: Env, ctx: WorkerExecutionContext) => under(request, e, ctx);
        return { provider, handle };
      })
      .catch((error: unknown) => {
        built = undefined; // a failed build (a missing secret, say) is retried by the next event
        throw error;
      });
    return built;
  };
  return {
    async fetch(request, env, ctx) {
      // A failed build (or a throw that escaped the provider) gets the JSON 500, not workerd's text page.
      try {
        return await (await build(env)).handle(request, env, ctx);
      } catch (error) {
        return escapedError(error);
      }
    },
    async scheduled(_controller, env, ctx) {
      const { provider } = await build(env);
      if (provider.sweep) ctx.waitUntil(provider.sweep());
      // Work whose object was never woken (the Worker died between D1 and the wake-up) or
      // whose object gave up (the platform retries a failing alarm only a few times).
      const wake = provider.worker?.[WORK_WAKE];
      if (wake !== undefined) ctx.waitUntil(wake.recover());
    },
  };
}
