/** @module test/duration: ISO 8601 durations as the spec's regex allows, and date arithmetic on them. */
import { describe, expect, it } from 'vitest';
import { addDuration, isDuration, secondsToDuration } from '../src/duration.ts';

const T0 = Date.UTC(2024, 0, 31, 12, 0, 0); // 31 January 2024, 12:00 UTC

describe('durations', () => {
  it.each(['P30D', 'P1M', 'P1Y', 'P2W', 'PT1H30M', 'P1DT2H', 'PT0.5S', 'P1Y2M3W4DT5H6M7S'])('accepts %s', (d) => {
    expect(isDuration(d)).toBe(true);
  });
  it.each(['P', 'PT', '30D', 'P1H', 'P-1D', 'PT1D', '', 'P1DT'])('rejects %s', (d) => {
    expect(isDuration(d)).toBe(false);
  });
  it('turns integer seconds into a duration', () => {
    expect(secondsToDuration(3600)).toBe('PT3600S');
    expect(addDuration(T0, secondsToDuration(90))).toBe(T0 + 90_000);
  });
  it('adds days, weeks and times exactly', () => {
    expect(addDuration(T0, 'P30D')).toBe(T0 + 30 * 86_400_000);
    expect(addDuration(T0, 'P2W')).toBe(T0 + 14 * 86_400_000);
    expect(addDuration(T0, 'PT1H30M')).toBe(T0 + 5_400_000);
    expect(addDuration(T0, 'PT0.5S')).toBe(T0 + 500);
  });
  it('adds months and years on the calendar', () => {
    expect(new Date(addDuration(T0, 'P1Y')).toISOString()).toBe('2025-01-31T12:00:00.000Z');
    expect(new Date(addDuration(Date.UTC(2024, 4, 15), 'P1M')).toISOString()).toBe('2024-06-15T00:00:00.000Z');
  });
  it('throws on a bad duration', () => {
    expect(() => addDuration(T0, 'soon')).toThrow(TypeError);
  });
});
