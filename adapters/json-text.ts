/**
 * @module adapters/json-text: `JSON.stringify` for parsed JSON of any depth. V8's own recurses
 * and throws a RangeError a few thousand levels down, far less than a 100 kB body can nest;
 * `JSON.parse` has no such limit, so a body a host parser accepted must be written back without one.
 */

/** A container being written: its keys (undefined for an array) and how far it has got. */
interface Open {
  readonly value: object;
  readonly keys: readonly string[] | undefined;
  next: number;
  wrote: boolean;
}

/** What JSON.stringify writes nothing for (skipped in an object, `null` in an array). */
const unwritable = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

/** `value` as JSON.stringify sees it: through its `toJSON` (a Date's, say), if it has one. */
function prepared(value: unknown, key: string): unknown {
  const toJSON = typeof value === 'object' && value !== null ? (value as { toJSON?: unknown }).toJSON : undefined;
  return typeof toJSON === 'function' ? toJSON.call(value, key) : value;
}

/**
 * `JSON.stringify(value)`, natively when it can, else with an explicit stack. Handles what a
 * body parser produces (objects, arrays, strings, numbers, booleans, null, `toJSON`); throws a
 * TypeError on a cycle as the native one does.
 *
 * @example
 * ```ts
 * jsonText(JSON.parse('['.repeat(50_000) + ']'.repeat(50_000))) // no RangeError
 * ```
 */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const parts: string[] = [];
  const stack: Open[] = [];
  const open = new Set<object>();
  const write = (item: unknown): void => {
    if (typeof item !== 'object' || item === null) {
      parts.push(JSON.stringify(item)); // a primitive: no recursion
      return;
    }
    if (open.has(item)) throw new TypeError('Converting circular structure to JSON');
    open.add(item);
    const keys = Array.isArray(item) ? undefined : Object.keys(item);
    parts.push(keys === undefined ? '[' : '{');
    stack.push({ value: item, keys, next: 0, wrote: false });
  };
  const root = prepared(value, '');
  if (unwritable(root)) return undefined;
  write(root);
  for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
    const length = top.keys === undefined ? (top.value as unknown[]).length : top.keys.length;
    if (top.next === length) {
      parts.push(top.keys === undefined ? ']' : '}');
      open.delete(top.value);
      stack.pop();
      continue;
    }
    const index = top.next++;
    const key = top.keys === undefined ? String(index) : (top.keys[index] as string);
    const item = prepared((top.value as Record<string, unknown>)[key], key);
    if (top.keys === undefined) {
      if (index > 0) parts.push(',');
      if (unwritable(item)) parts.push('null');
      else write(item);
    } else if (!unwritable(item)) {
      parts.push(`${top.wrote ? ',' : ''}${JSON.stringify(key)}:`);
      top.wrote = true;
      write(item);
    }
  }
  return parts.join('');
}
