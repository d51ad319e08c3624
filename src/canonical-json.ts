/** @module canonical-json: equal JSON documents as equal strings (idempotent run compares requests with it). */

/** JSON with object keys sorted, so two equal documents compare equal as strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
