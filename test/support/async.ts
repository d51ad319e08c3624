/** @module test/support/async: waiting in tests: sleeps, polls, deadlines, gates and a bounded pool. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns true or `timeout` ms pass; resolves to the last answer. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeout = 5_000, every = 20): Promise<boolean> {
  const deadline = performance.now() + timeout;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await sleep(every);
  }
}

/** Poll `check` until it returns something other than undefined; rejects after `timeout` ms. */
export async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeout = 10_000,
  every = 10,
): Promise<T> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await sleep(every);
  }
}

/** Resolves as `promise` does, or rejects with `message` if it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A promise with its resolver, for holding a callback until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Run `task` on every item with at most `limit` in flight; results in item order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
