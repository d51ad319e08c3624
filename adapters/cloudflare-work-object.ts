/**
 * @module adapters/cloudflare-work-object: the Durable Object class that runs a provider's
 * background work on Workers, one object per action (`idFromName(action_id)`). Woken by the
 * Worker (work/durable-object.ts), it sets its alarm; the alarm leases the action's work in D1
 * and runs it in a provider of the object's own, heartbeats renewing the lease and noticing a
 * cancel, then re-arms for a retry or the next slice of long work, or clears itself once the
 * work is done. The platform runs an alarm again when its object dies mid-way: that is the
 * crash recovery, and the lease left behind is taken over at once, the attempt counted.
 */
import { WORK_WAKE, type WorkWake } from '../src/work/types.ts';
import type { ActionWorkObject, DurableObjectStateLike, WorkerProvider, WorkObjectOptions } from './contract.ts';

export type { ActionWorkObject, DurableObjectStateLike, WorkObjectOptions } from './contract.ts';

/** The class `actionWorkObject()` makes, for `export class ActionWork extends actionWorkObject(build) {}`. */
export type ActionWorkObjectClass<Env> = new (state: DurableObjectStateLike, env: Env) => ActionWorkObject;

/** Where the object keeps the id of its action: an alarm is called with no arguments. */
const ACTION_KEY = 'action_id';
/** Cloudflare's limit on an alarm handler's wall-clock time. */
const ALARM_LIMIT = 900_000;

interface Built {
  provider: WorkerProvider;
  wake: WorkWake;
}

const empty = (status: number) => new Response(null, { status });

/**
 * The Durable Object class of a provider's background work, from the same `(env) => provider`
 * factory the Worker is built with (`worker(build)`): each object builds its own provider, whose
 * store must be `d1Store(env.DB, { work: env.<this class's binding> })`. Bind it in wrangler.toml
 * (`[[durable_objects.bindings]]`, and a `[[migrations]]` entry with `new_sqlite_classes`).
 *
 * @example
 * ```ts
 * const build = async (env: Env) =>
 *   myProvider({ auth, store: await d1Store(env.DB, { migrate: false, work: env.ACTION_WORK }) })
 * export default worker(build)
 * export class ActionWork extends actionWorkObject(build) {}
 * ```
 */
export function actionWorkObject<Env = Record<string, unknown>>(
  build: (env: Env) => WorkerProvider | Promise<WorkerProvider>,
  options: WorkObjectOptions = {},
): ActionWorkObjectClass<Env> {
  // A provider per object, never one shared by the objects of an isolate: each object's alarm
  // has its own I/O context, and the end of one object's slice stops only its own runner.
  if (typeof build !== 'function') throw new TypeError('actionWorkObject: expected the (env) => provider factory');
  const maxAlarmTime = options.maxAlarmTime ?? 840_000;
  if (!Number.isSafeInteger(maxAlarmTime) || maxAlarmTime < 10 || maxAlarmTime >= ALARM_LIMIT) {
    throw new TypeError(`maxAlarmTime: must be an integer of ms from 10 to ${ALARM_LIMIT - 1}`);
  }

  return class ActionWork implements ActionWorkObject {
    readonly #state: DurableObjectStateLike;
    readonly #env: Env;
    #built: Promise<Built> | undefined;

    constructor(state: DurableObjectStateLike, env: Env) {
      this.#state = state;
      this.#env = env;
    }

    #provider(): Promise<Built> {
      this.#built ??= Promise.resolve(build(this.#env))
        .then((provider) => {
          const wake = provider?.worker?.[WORK_WAKE];
          if (wake === undefined) {
            throw new TypeError(
              'actionWorkObject: the provider has no background work run by Durable Objects: give it a work callback and open its store with d1Store(env.DB, { work: env.ACTION_WORK })',
            );
          }
          return { provider, wake };
        })
        .catch((error: unknown) => {
          this.#built = undefined; // the next alarm tries again
          throw error;
        });
      return this.#built;
    }

    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      const actionId = url.searchParams.get(ACTION_KEY);
      if (request.method !== 'POST' || actionId === null || actionId === '') return empty(400);
      const { storage } = this.#state;
      if (url.pathname === '/wake') {
        await storage.put(ACTION_KEY, actionId);
        const armed = await storage.getAlarm();
        const now = Date.now();
        if (armed === null || armed > now) await storage.setAlarm(now);
        return empty(204);
      }
      if (url.pathname === '/notice') {
        // Only work running here can be stopped here; queued work finds its action completed when it runs.
        const built = this.#built;
        if (built !== undefined) await (await built).wake.notice(actionId);
        return empty(204);
      }
      return empty(404);
    }

    async alarm(): Promise<void> {
      const { storage } = this.#state;
      const actionId = await storage.get<string>(ACTION_KEY);
      if (actionId === undefined) return;
      // A failure from here on (D1 down, a factory that throws) fails the alarm: the platform retries it.
      const built = await this.#provider();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const sliceOver = new Promise<'slice'>((resolve) => {
        timer = setTimeout(() => resolve('slice'), maxAlarmTime);
      });
      let next: number | null | 'running';
      try {
        const outcome = await Promise.race([built.wake.take(actionId), sliceOver]);
        if (outcome === 'slice') {
          // Hand the work back before the platform ends the alarm: its signal aborts after the
          // grace, its lease goes back uncounted, and the next alarm (at once, with a provider
          // of its own) takes it up from its last checkpoint.
          this.#built = undefined;
          await built.provider.worker?.stop();
          next = Date.now();
        } else next = outcome;
      } finally {
        clearTimeout(timer);
      }
      if (next === 'running') return; // an alarm of this object runs it now and re-arms after
      // A wake-up that came while the work ran armed the alarm already (getAlarm() is null
      // inside the handler otherwise): keep the earlier of the two.
      const armed = await storage.getAlarm();
      if (next === null) {
        if (armed === null) await storage.deleteAll(); // done: the object keeps nothing
        return;
      }
      await storage.setAlarm(armed === null ? next : Math.min(armed, next));
    }
  };
}
