/**
 * @module awaitable: `Awaitable<T>`, what interfaces users implement may return: a value, or a
 * promise of one (a cache answering from memory need not make a promise; one backed by Redis
 * returns a promise).
 */

/** A value, or a promise of one. */
export type Awaitable<T> = T | Promise<T>;
