/**
 * @module store/ordered-index: `orderedIndex()`, sorted lists of keys by name, read newest
 * first and merged: what lets the memory store answer a page of enumerate by reading about a
 * page of keys, however many actions the caller has.
 */

/** Sorted lists of string keys, each list named. Keys compare as JavaScript strings. */
export interface OrderedIndex {
  /** Put `key` in list `name` (nothing if it is there already). */
  add(name: string, key: string): void;
  /** Take `key` out of list `name` (nothing if it is not there). */
  remove(name: string, key: string): void;
  /**
   * Put `next` where `key` is in list `name` (nothing if `key` is not there). `next` must sort
   * where `key` does: the memory store's entries of one action, which begin with its order key.
   */
  replace(name: string, key: string, next: string): void;
  /** Take many keys out of list `name`: one pass over the list, not one per key. */
  removeAll(name: string, keys: ReadonlySet<string>): void;
  /**
   * The keys of the lists `names`, merged, greatest first, each once (a key in several lists
   * comes out once), only those below `before` when it is given. Lazy: reading n keys costs
   * n steps of the merge plus a binary search per list, whatever the lists' lengths. The lists
   * must not change while it is read.
   */
  descending(names: readonly string[], before?: string): Generator<string, void, undefined>;
  /** How many lists are held (empty ones are dropped). */
  readonly lists: number;
}

/** The first index of `list` whose key is not below `key` (`list.length` when all are). */
function lowerBound(list: readonly string[], key: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Sorted arrays in a Map. Actions arrive in start-time order, so nearly every insertion is an
 * append; a removal shifts the rest of one array, which at a million keys is still well under
 * a millisecond (a tree would cost more memory per key, and every read more).
 *
 * @example
 * ```ts
 * const index = orderedIndex()
 * index.add('a', 'k1'); index.add('b', 'k2')
 * [...index.descending(['a', 'b'])] // ['k2', 'k1']
 * ```
 */
export function orderedIndex(): OrderedIndex {
  const lists = new Map<string, string[]>();
  return {
    add(name, key) {
      const list = lists.get(name);
      if (list === undefined) {
        lists.set(name, [key]);
        return;
      }
      const last = list[list.length - 1] as string;
      if (last < key) {
        list.push(key);
        return;
      }
      const at = lowerBound(list, key);
      if (list[at] !== key) list.splice(at, 0, key);
    },
    remove(name, key) {
      const list = lists.get(name);
      if (list === undefined) return;
      const at = lowerBound(list, key);
      if (list[at] !== key) return;
      if (list.length === 1) lists.delete(name);
      else list.splice(at, 1);
    },
    replace(name, key, next) {
      const list = lists.get(name);
      if (list === undefined) return;
      const at = lowerBound(list, key);
      if (list[at] === key) list[at] = next;
    },
    removeAll(name, keys) {
      const list = lists.get(name);
      if (list === undefined) return;
      const kept = list.filter((key) => !keys.has(key));
      if (kept.length === 0) lists.delete(name);
      else lists.set(name, kept);
    },
    *descending(names, before) {
      const heads: { list: string[]; at: number }[] = [];
      for (const name of new Set(names)) {
        const list = lists.get(name);
        if (list === undefined) continue;
        const at = (before === undefined ? list.length : lowerBound(list, before)) - 1;
        if (at >= 0) heads.push({ list, at });
      }
      // A linear pick of the greatest head: a caller's lists are a handful (a few per identity
      // and group), where a heap would only add work.
      while (heads.length > 0) {
        let greatest = heads[0]?.list[heads[0].at] as string;
        for (const head of heads) {
          const key = head.list[head.at] as string;
          if (key > greatest) greatest = key;
        }
        yield greatest;
        for (let i = heads.length - 1; i >= 0; i--) {
          const head = heads[i] as { list: string[]; at: number };
          if (head.list[head.at] === greatest && --head.at < 0) heads.splice(i, 1);
        }
      }
    },
    get lists() {
      return lists.size;
    },
  };
}
