/** @module provider: `createActionProvider()`, a whole Action Provider as one Web-standard handler. */
import type { Hono } from 'hono';
import type { ProviderDescription } from './description.ts';
import { type HealthOptions, type HealthReport, providerHealth } from './health.ts';
import { normalisePrefix } from './http/prefix.ts';
import { type OpenApiDocument, type OpenApiOptions, openApiDocument, withServer } from './openapi.ts';
import type { ActionsApi } from './operations/actions-api.ts';
import { createOperations } from './operations/index.ts';
import { type ProviderOptions, resolveOptions } from './options.ts';
import { createApp } from './routes.ts';
import type { ActionStore } from './store/types.ts';
import type { InputOption } from './validation/input.ts';
import type { Worker, WorkerInternals } from './work/runner.ts';
import { WORK_WAKE } from './work/types.ts';

export interface ActionProvider {
  /** The Web handler: `export default provider` works wherever a runtime accepts `{ fetch }`. */
  fetch(request: Request, env?: unknown, executionContext?: unknown): Response | Promise<Response>;
  /**
   * The Web handler under a URL prefix: `/echo` and `/echo/` are the introspection document,
   * `/echo/run` runs, anything outside `/echo` is the JSON 404. It routes on the request's own
   * path, so serving under a prefix costs what serving without one does. Every adapter's
   * `prefix` option uses it; a Hono host mounts it with
   * `host.mount('/echo', provider.at('/echo'), { replaceRequest: false })`.
   */
  at(prefix: string): (request: Request, env?: unknown, executionContext?: unknown) => Response | Promise<Response>;
  /**
   * The Hono app, for Hono hosts (`host.mount('/prefix', provider.fetch)` works too). Its
   * `use()` throws: middleware added after creation would never run. Use the `hooks` option, or
   * add middleware to the host app the provider is mounted in.
   */
  readonly app: Hono;
  /** The resolved introspection document. */
  readonly description: ProviderDescription;
  /**
   * The OpenAPI 3.1 document of this provider: the routes it serves (both families; log and
   * resume only when it has them), its input schema as the ActionRequest's `body`, the
   * ActionStatus and error schemas, the status codes each route answers, and its scope as the
   * Globus Auth security requirement (for the authenticator's Globus Auth environment), ready to
   * register with Globus Flows as a Registered API. `url`, the public base URL (prefix
   * included), becomes its `servers`. Built on first call and kept; frozen.
   *
   * @example
   * ```ts
   * console.log(JSON.stringify(provider.openapi({ url: 'https://example.org/echo' }), null, 2))
   * ```
   */
  openapi(options?: OpenApiOptions): OpenApiDocument;
  /** Read and update actions from outside a request (background jobs, webhooks). */
  readonly actions: ActionsApi;
  readonly store: ActionStore;
  /**
   * The background work of this instance, for a provider with a `work` callback: `start()`
   * takes up work (that of a crashed instance too), `stop()` ends it gracefully. The serve()
   * helpers call both; `close()` calls `stop()`.
   */
  readonly worker: Worker | undefined;
  /** Delete expired actions now (what the sweeper and a Worker's scheduled handler call). Resolves to how many. */
  sweep(): Promise<number>;
  /**
   * What a readiness route answers (the adapters' `health` option serves it): the store (a real
   * round trip, and whether its schema is migrated), the authenticator's upstream (Globus Auth
   * reachable and accepting the client credentials, checked at most every `healthInterval`) and,
   * with a `work` callback, background work (running, and how long due work has waited). The
   * checks run at once, each within `timeout` (default 2 s), so it never hangs; it never rejects
   * (but for a bad `timeout`). `status` is the worst check's: `fail` means send no traffic here.
   *
   * @example
   * ```ts
   * const report = await provider.health()
   * if (report.status === 'fail') console.error(JSON.stringify(report.checks))
   * ```
   */
  health(options?: HealthOptions): Promise<HealthReport>;
  /**
   * Stop background work gracefully (see `worker.stop`), then release the store's connections
   * or files (the serve() helpers call it on SIGTERM/SIGINT). No work runs against a closed store.
   */
  close(): Promise<void>;
}

/**
 * Build an Action Provider.
 *
 * @example
 * ```ts
 * import * as v from 'valibot'
 * import { createActionProvider, jwtAuth } from 'globus-action-provider'
 *
 * export default createActionProvider({
 *   description: { title: 'Echo', globus_auth_scope: 'https://auth.globus.org/scopes/.../action_all', admin_contact: 'me@example.org', synchronous: true },
 *   input: v.object({ input_string: v.string() }),
 *   auth: jwtAuth({ jwks: 'https://issuer.example/jwks.json' }),
 *   run: ({ request }) => ({ status: 'SUCCEEDED', details: { you_said: request.body.input_string } }),
 * })
 * ```
 */
export function createActionProvider<const I extends InputOption | undefined = undefined>(
  options: ProviderOptions<I>,
): ActionProvider {
  const config = resolveOptions(options as unknown as ProviderOptions);
  const operations = createOperations(config);
  const app = createApp(operations, config);
  // Middleware added to the app after its routes would never run (Hono runs handlers in the
  // order they were added, and each route answers): say so rather than ignore it.
  app.use = () => {
    throw new TypeError(
      'provider.app.use(): middleware added after the provider is created never runs; use the hooks option, or mount the provider in a host app and add the middleware there (see README, "Middleware")',
    );
  };
  // One app per prefix, built on first use: adapters ask once, at start.
  const mounted = new Map<string, Hono>();
  const fetch: ActionProvider['fetch'] = (request, env, executionContext) =>
    app.fetch(request, env, executionContext as never);
  const at: ActionProvider['at'] = (prefix) => {
    const base = normalisePrefix(prefix);
    if (base === '') return fetch;
    let under = mounted.get(base);
    if (under === undefined) {
      under = createApp(operations, config, base);
      mounted.set(base, under);
    }
    const handle = under.fetch;
    return (request, env, executionContext) => handle(request, env, executionContext as never);
  };
  // Adapters route through at() only while `fetch` is this one: a copy of the provider with
  // its own fetch (`{ ...provider, fetch: wrapped }`) keeps its wrapper in front.
  Object.defineProperty(at, 'fetch', { value: fetch });
  // Built on first use (most providers never ask), then shared: it is frozen.
  let document: OpenApiDocument | undefined;
  return {
    fetch,
    at,
    app,
    description: config.description,
    openapi: (options) => {
      document ??= openApiDocument(config);
      return withServer(document, options);
    },
    actions: operations.actions,
    store: config.store,
    worker: operations.worker === undefined ? undefined : publicWorker(operations.worker),
    sweep: () => config.store.deleteExpired(config.clock()),
    health: providerHealth({ store: config.store, auth: config.auth, worker: operations.worker }),
    close: async () => {
      await operations.worker?.stop();
      await config.store.close?.();
    },
  };
}

/**
 * The public face of the worker: scheduling and notices stay inside the provider. What a host
 * that wakes work itself needs (a Durable Object, adapters/cloudflare-work-object.ts) is under
 * `WORK_WAKE`, for engines woken that way.
 */
function publicWorker(worker: WorkerInternals): Worker {
  return {
    ...(worker.wake === undefined ? {} : { [WORK_WAKE]: worker.wake }),
    get engine() {
      return worker.engine;
    },
    get id() {
      return worker.id;
    },
    get running() {
      return worker.running;
    },
    start: () => worker.start(),
    stop: (options) => worker.stop(options),
  };
}
