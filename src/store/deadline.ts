/**
 * @module store/deadline: bounds the calls a network driver makes, so a database that stops
 * answering (frozen, partitioned) costs a request a 503 within a known time, never a hang: no
 * call takes longer than `timeout` ms, waiting for its turn included, and at most `concurrency`
 * are inside the client at once.
 *
 * Why the second bound: a call past its deadline cannot be taken back from the client, which
 * keeps it until the server answers. Holding its slot until then means a frozen server ties up
 * at most `concurrency` calls; later ones wait here, where their deadline removes them, instead
 * of piling up in the client to run, stale, all at once when the server comes back.
 */
import { StoreTimeoutError } from './failures.ts';

export interface DeadlineOptions {
  /** Calls inside the client at once (its pool size). */
  concurrency: number;
  /** Milliseconds a call may take, from the moment it is made. */
  timeout: number;
  /** The database, for the timeout's message. */
  what: string;
}

/**
 * Runs `work` within the bounds. `abandoned()` turns true once the caller has its timeout, so
 * work in several steps (a transaction) can stop and roll back instead of committing.
 */
export type Bounded = <T>(work: (abandoned: () => boolean) => Promise<T>) => Promise<T>;

export function withDeadline(options: DeadlineOptions): Bounded {
  const { concurrency, timeout, what } = options;
  let active = 0;
  const waiting: (() => void)[] = [];
  /** A finished call hands its slot to the next waiting one, if any. */
  const release = () => {
    const next = waiting.shift();
    if (next === undefined) active--;
    else next();
  };
  return <T>(work: (abandoned: () => boolean) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      let late = false;
      const enter = () => {
        Promise.resolve()
          .then(() => work(() => late))
          .then(resolve, reject)
          .finally(() => {
            clearTimeout(timer);
            release();
          });
      };
      const timer = setTimeout(() => {
        late = true;
        const index = waiting.indexOf(enter);
        if (index !== -1) waiting.splice(index, 1);
        reject(new StoreTimeoutError(`${what} did not answer within ${timeout} ms`));
      }, timeout);
      if (active < concurrency) {
        active++;
        enter();
      } else {
        waiting.push(enter);
      }
    });
}
