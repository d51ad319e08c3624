/**
 * @module test/fuzz/fuzz.test: the bounded fuzz sample CI runs: a few hundred generated
 * requests on each target (memory, SQLite, PostgreSQL behind `serve()`, Express without and
 * after `express.json()`), each target on a child process over real HTTP, every oracle of
 * test/fuzz/oracles.ts asserted. The seed is fixed and printed; FUZZ_SEED and FUZZ_REQUESTS
 * change it. A failure prints the findings with their reproducers (`npm run fuzz -- --replay`).
 */
import { describe, expect, inject, it } from 'vitest';
import { fuzzTarget } from './engine.ts';
import { ORACLES, type Oracle } from './oracles.ts';
import { details, summary } from './report.ts';
import { openTarget, TARGETS } from './targets.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_901);
const REQUESTS = Number(process.env['FUZZ_REQUESTS'] ?? 800);
const NONE = Object.fromEntries(ORACLES.map((o) => [o, 0])) as Record<Oracle, number>;

describe('fuzz sample', () => {
  // Each target its own seed, so the sample covers different requests on each.
  it.each(TARGETS.map((name, i) => [name, SEED + i] as const))(
    `%s: ${REQUESTS} generated requests (seed %i) break no oracle`,
    async (name, seed) => {
      const target = await openTarget(name, { postgresUrl: inject('databaseUrl') });
      try {
        const report = await fuzzTarget(target, { seed, requests: REQUESTS, concurrency: 4, timeoutMs: 5_000 });
        const text = [...summary(report), ...details(report, 15)].join('\n');
        console.log(summary(report).join('\n'));
        expect(report.counts, text).toEqual(NONE);
        expect(report.sent, text).toBeGreaterThan(REQUESTS * 0.9);
      } finally {
        await target.dispose();
      }
    },
    90_000,
  );
});
