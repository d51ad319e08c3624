/**
 * @module duration: ISO 8601 durations as the Action Provider Interface allows them.
 *
 * Written here rather than taken from a package: the spec's own regex decides what is
 * valid, and the only arithmetic needed is "date + duration" (calendar-aware for Y and M),
 * which is a dozen lines.
 */

/** The spec's ISO8601_duration pattern (action_request.yaml), verbatim. */
export const ISO8601_DURATION =
  /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

export function isDuration(value: string): boolean {
  return ISO8601_DURATION.test(value);
}

/** The longest `release_after` accepted: one year, as 366 days (P1Y, P12M, P366D, 31,622,400 s). */
export const MAX_RELEASE_AFTER_SECONDS = 366 * 86_400;

/**
 * Whether `duration` is finite and at most `maxSeconds` long, measured from 1 January of a leap
 * year (where P1Y and P12M are longest). Digits beyond what a number holds make it infinite.
 */
export function isDurationAtMost(duration: string, maxSeconds: number): boolean {
  if (!ISO8601_DURATION.test(duration)) return false;
  const from = Date.UTC(2024, 0, 1);
  const end = addDuration(from, duration);
  return Number.isFinite(end) && end - from <= maxSeconds * 1000;
}

/** Whether `duration` can be added to a date at all (a finite instant results). */
export function isFiniteDuration(duration: string): boolean {
  return ISO8601_DURATION.test(duration) && Number.isFinite(addDuration(Date.UTC(2024, 0, 1), duration));
}

/** Integer seconds as a duration (`90` → `PT90S`); `0` is `PT0S`; digits, never an exponent (`1e21`). */
export function secondsToDuration(seconds: number): string {
  return `PT${BigInt(seconds)}S`;
}

/**
 * The instant `duration` after `from` (ms since the epoch). Years and months follow the UTC
 * calendar (P1M after 31 January is 3 March, as in Date arithmetic); fractions of years and
 * months count as 365 and 30 days.
 */
export function addDuration(from: number, duration: string): number {
  const m = ISO8601_DURATION.exec(duration);
  if (!m) throw new TypeError(`not an ISO 8601 duration: ${duration}`);
  const num = (part: string | undefined): number => (part === undefined ? 0 : Number.parseFloat(part));
  const years = num(m[1]);
  const months = num(m[2]);
  const date = new Date(from);
  const wholeMonths = Math.trunc(years) * 12 + Math.trunc(months);
  if (wholeMonths !== 0) date.setUTCMonth(date.getUTCMonth() + wholeMonths);
  const days = (years % 1) * 365 + (months % 1) * 30 + num(m[3]) * 7 + num(m[4]);
  const seconds = days * 86_400 + num(m[6]) * 3_600 + num(m[7]) * 60 + num(m[8]);
  return date.getTime() + Math.round(seconds * 1000);
}
