/**
 * @module operations/paging: the query parameters of the routes that answer a page at a time
 * (log, enumerate): `limit`, and `marker` with its alias `pagination_token`.
 */
import { ActionError } from '../http/errors.ts';

/**
 * `limit` as a whole number from 1 to `max`, `fallback` when absent; else a 422 naming it. Only
 * decimal digits count: `1e3`, `0x10`, ` 5` and `1.0` are refused rather than read as numbers.
 */
export function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null) return fallback;
  const limit = /^[0-9]{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= max)) {
    throw new ActionError(
      'RequestValidationError',
      `Field 'limit' (category: 'value'): must be an integer from 1 to ${max}`,
    );
  }
  return limit;
}

/** The `marker` of the previous page, or `pagination_token` (the Python toolkit's name), or null. */
export function markerParam(params: URLSearchParams): string | null {
  return params.get('marker') ?? params.get('pagination_token');
}
