/**
 * @module validation/listing: a body validated by valibot or @cfworker/json-schema with every
 * issue listed only when the body is small enough for that to be cheap; a large one stops at
 * its first issue.
 */
import * as v from 'valibot';
import { isPlainObject } from '../model.ts';

/**
 * Values a failing body may hold for every issue to be listed. A body within the limit can hold
 * millions (a list of 5 million numbers where strings belong): valibot and @cfworker/json-schema
 * would make an object of each issue, gigabytes and seconds of them, before any line is written.
 * So these validate first stopping at the first issue (valibot's `abortEarly`, cfworker's
 * `shortCircuit`), which costs a valid body nothing more, and list all only for a body this small.
 */
export const MAX_LISTED_VALUES = 10_000;

/** What a 422 adds when only the first issue of a large body was looked for. */
/** The first issue only (one config object for every call, not one per request). */
const FIRST_ISSUE = { abortEarly: true } as const;

export const MORE_NOT_LISTED = 'and possibly more issues (the body is too large to list them all)';

/** True when `body` holds more than MAX_LISTED_VALUES values, objects and arrays counted (the count stops there). */
export function isLarge(body: unknown): boolean {
  let count = 0;
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (Array.isArray(value)) {
      for (const item of value) {
        if (++count > MAX_LISTED_VALUES) return true;
        pending.push(item);
      }
    } else if (isPlainObject(value)) {
      for (const key in value) {
        if (++count > MAX_LISTED_VALUES) return true;
        pending.push(value[key]);
      }
    }
  }
  return false;
}

/**
 * `schema` run on `value` as v.safeParse does, but listing every issue only for a value that is
 * not large (see MAX_LISTED_VALUES); `partial` says the issues are the first only.
 */
export function parseListing<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
): { result: v.SafeParseResult<S>; partial: boolean } {
  const first = v.safeParse(schema, value, FIRST_ISSUE);
  if (first.success) return { result: first, partial: false };
  if (isLarge(value)) return { result: first, partial: true };
  return { result: v.safeParse(schema, value), partial: false };
}

/** The async form of `parseListing`, for an async valibot schema. */
export async function parseListingAsync<S extends v.GenericSchema | v.GenericSchemaAsync>(
  schema: S,
  value: unknown,
): Promise<{ result: v.SafeParseResult<S>; partial: boolean }> {
  const first = await v.safeParseAsync(schema, value, FIRST_ISSUE);
  if (first.success) return { result: first, partial: false };
  if (isLarge(value)) return { result: first, partial: true };
  return { result: await v.safeParseAsync(schema, value), partial: false };
}
