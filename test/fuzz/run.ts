/**
 * @module test/fuzz/run: `npm run fuzz`: 100,000 generated requests on each target (memory,
 * SQLite, PostgreSQL, Express, Express after express.json()), then the counts and a
 * reproducer for every deduplicated finding. Exits 1 when any oracle failed.
 *
 *   npm run fuzz -- [--requests N] [--target memory,sqlite,...] [--seed S] [--concurrency C]
 *                   [--timeout MS] [--replay I] [--serve TARGET] [--max-findings N] [--no-confirm]
 *
 * After each target, every finding's example is sent again alone to a fresh target, to tell
 * the reproducers that fail by themselves from those that need earlier requests (--no-confirm skips it).
 *
 * PostgreSQL: FUZZ_DATABASE_URL names a server to make a fresh database on; else one is
 * started in a temporary directory (test/support/postgres.ts) and stopped at the end.
 */
import { parseArgs } from 'node:util';
import { startPostgres } from '../support/postgres.ts';
import { confirmAlone } from './confirm.ts';
import { fuzzTarget, type TargetReport } from './engine.ts';
import type { Finding } from './findings.ts';
import { replay, serveForHand } from './manual.ts';
import { details, failures, summary } from './report.ts';
import { isTargetName, openTarget, TARGETS, type TargetName } from './targets.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    target: { type: 'string', default: TARGETS.join(',') },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    timeout: { type: 'string', default: '5000' },
    replay: { type: 'string' },
    serve: { type: 'string' },
    'max-findings': { type: 'string', default: '40' },
    'no-confirm': { type: 'boolean', default: false },
  },
});

const integer = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name}: expected an integer, got ${text}`);
  return n;
};
const names = (values.serve ?? values.target).split(',').map((s) => s.trim());
for (const name of names)
  if (!isTargetName(name)) throw new Error(`unknown target ${name}; expected ${TARGETS.join(', ')}`);
const targets = names as TargetName[];
// A fresh seed explores; the one printed replays.
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : integer('seed', values.seed);
const options = {
  seed,
  requests: integer('requests', values.requests),
  concurrency: integer('concurrency', values.concurrency),
  timeoutMs: integer('timeout', values.timeout),
};

const external = process.env['FUZZ_DATABASE_URL'];
const postgres = targets.includes('postgres') && external === undefined ? await startPostgres() : undefined;
const postgresUrl = external ?? postgres?.url;
let failed = 0;
try {
  if (values.serve !== undefined) await serveForHand(await openTarget(targets[0] as TargetName, withPg()));
  else if (values.replay !== undefined) {
    for (const name of targets)
      failed += await replay(await openTarget(name, withPg()), seed, integer('replay', values.replay), options);
  } else failed = await fuzzAll();
} finally {
  postgres?.stop();
}
process.exit(failed > 0 ? 1 : 0);

async function confirmOnFresh(name: TargetName, findings: Finding[]) {
  if (findings.length === 0) return undefined;
  const fresh = await openTarget(name, withPg());
  try {
    return await confirmAlone(fresh, findings, { timeoutMs: options.timeoutMs, max: findings.length });
  } finally {
    await fresh.dispose();
  }
}

function withPg() {
  return postgresUrl === undefined ? {} : { postgresUrl };
}

async function fuzzAll(): Promise<number> {
  console.log(
    `fuzz: seed ${seed}, ${options.requests} requests per target, ${options.concurrency} in flight, ${targets.join(', ')}`,
  );
  const reports: TargetReport[] = [];
  for (const name of targets) {
    const target = await openTarget(name, withPg());
    try {
      const report = await fuzzTarget(target, {
        ...options,
        onBatch: (r) => process.stderr.write(`\r${name}: ${r.generated}/${options.requests}, ${failures(r)} failures `),
      });
      process.stderr.write('\n');
      reports.push(report);
      const max = integer('max-findings', values['max-findings']);
      const findings = report.findings.list();
      const alone = values['no-confirm'] ? undefined : await confirmOnFresh(name, findings.slice(0, max));
      console.log([...summary(report), ...details(report, max, findings, alone)].join('\n'));
    } finally {
      await target.dispose();
    }
  }
  console.log('\ntotals (5xx / hangs / crashes / non-JSON errors):');
  for (const r of reports) {
    const { counts } = r;
    console.log(
      `  ${r.target.padEnd(13)} ${counts['server-error']} / ${counts.hang} / ${counts.crash} / ${counts['non-json-error']}` +
        `   (all oracles: ${failures(r)} over ${r.sent} requests, ${(r.ms / 1000).toFixed(0)} s)`,
    );
  }
  console.log(`seed ${seed}: npm run fuzz -- --seed ${seed} replays this run`);
  return reports.reduce((n, r) => n + failures(r), 0);
}
