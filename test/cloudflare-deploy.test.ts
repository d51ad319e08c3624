/**
 * @module test/cloudflare-deploy: the Workers deploy kit (examples/cloudflare), checked with
 * wrangler itself, offline. The D1 migrations are schemaSql('sqlite') statement for statement and
 * make the tables a `migrate: false` store needs; wrangler.toml parses and names what the Worker
 * reads (D1, the Durable Object class of background work and its migration, the cron);
 * `wrangler deploy --dry-run` bundles the Worker from it; and that bundle, served by workerd with
 * the bindings wrangler derives from the toml and the D1 that `wrangler d1 migrations apply
 * --local` migrated, answers introspection, runs the echo action as background work in the
 * action's Durable Object and sweeps on the toml's cron.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import { type D1Like, d1Driver, d1Store, schemaSql } from '../src/store/d1.ts';
import { sqlStore } from '../src/store/sql.ts';
import { actionClient } from '../src/testing/index.ts';
import { waitFor } from './support/async.ts';
import { applyD1Migrations, D1_MIGRATIONS, readD1Migrations } from './support/d1-migrations.ts';
import { startWorker } from './support/hosts.ts';
import { exampleEnv, mint, USERS } from './support/identities.ts';
import { ROOT, spawnProcess } from './support/processes.ts';
import { record } from './support/stores.ts';

const TOML = join(ROOT, 'examples/cloudflare/wrangler.toml');
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanups.reverse()) await step();
});

/** A fresh miniflare with the D1 databases `names`, disposed after the file. */
async function d1s(...names: string[]): Promise<D1Like[]> {
  const miniflare = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response() } }',
    d1Databases: names,
    compatibilityDate: '2026-04-01',
  });
  cleanups.push(() => miniflare.dispose());
  return Promise.all(names.map(async (name) => (await miniflare.getD1Database(name)) as unknown as D1Like));
}

const rows = async (db: D1Like, sql: string) => (await db.prepare(sql).all()).results as Record<string, unknown>[];
/** The store's tables and indexes as SQLite keeps them (their DDL), without wrangler's own. */
const schema = (db: D1Like) =>
  rows(db, "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'gap\\_%' ESCAPE '\\' ORDER BY name");

describe(`D1 migrations (${D1_MIGRATIONS})`, () => {
  it("hold schemaSql('sqlite') statement for statement, so a schema change without a migration file fails here", () => {
    const migrations = readD1Migrations();
    // Numbered from 0001 without gaps, as wrangler's `d1 migrations create` names them.
    expect(migrations[0]?.name).toBe('0001_actions.sql');
    for (const [i, { name }] of migrations.entries())
      expect(name).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_\\w+\\.sql$`));
    const expected = schemaSql('sqlite');
    const actual = migrations.flatMap((m) => m.statements);
    const missing = expected.slice(actual.length);
    const next = `${D1_MIGRATIONS}/${String(migrations.length + 1).padStart(4, '0')}_<what changed>.sql`;
    const advice =
      actual.length < expected.length && actual.every((statement, i) => statement === expected[i])
        ? `schemaSql('sqlite') has ${missing.length} statement(s) that no D1 migration holds: add ${next} ` +
          `holding them (each ending in ';'), and leave the applied files alone:\n\n${missing.map((s) => `${s};`).join('\n\n')}\n`
        : `${D1_MIGRATIONS} no longer adds up to schemaSql('sqlite'). wrangler runs each migration file once, ` +
          'so a file already applied to a database must never change: a schema change is a new version in ' +
          `src/store/sql-schema.ts and a new file, ${next}, holding what schemaSql() adds for it`;
    expect(actual, advice).toEqual(expected);
  });

  it('applied to a fresh D1, make what d1Store({ migrate: false }) needs, the same tables a migrating store makes, and leave it nothing to do', async () => {
    const [db, migrated] = (await d1s('FILES', 'STORE')) as [D1Like, D1Like];
    // migrate: false runs no DDL: before the migrations there is nothing to store into.
    await expect((await d1Store(db, { migrate: false })).get('a')).rejects.toThrow(/no such table/);
    expect(await applyD1Migrations(db)).toEqual(readD1Migrations().map((m) => m.name));
    expect(await applyD1Migrations(db)).toEqual([]); // once only, as wrangler does

    const store = await d1Store(db, { migrate: false });
    const done = record({ status: 'SUCCEEDED', expires_at: 1_000 });
    const active = record();
    expect((await store.create(done)).created).toBe(true);
    expect((await store.create(active)).created).toBe(true);
    expect(await store.get(done.action_id)).toEqual(done);
    const listed = await store.list({ statuses: ['ACTIVE'], creator_id: [active.creator_id], limit: 10, now: 0 });
    expect(listed.actions.map((a) => a.action_id)).toEqual([active.action_id]);
    expect(await store.deleteExpired(2_000)).toBe(1);

    await d1Store(migrated); // migrates itself
    expect(await schema(db)).toEqual(await schema(migrated));
    // A store that does migrate finds every version recorded, by the files (CURRENT_TIMESTAMP's
    // format, where migrate() writes an ISO time), and adds nothing.
    const latest = await sqlStore(d1Driver(db)).migrate();
    const versions = await rows(db, 'SELECT version, applied_at FROM gap_schema_migrations ORDER BY version');
    expect(versions).toEqual(
      Array.from({ length: latest }, (_, i) => ({
        version: i + 1,
        applied_at: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      })),
    );
  });

  it('are what examples/worker.ts relies on: without them its D1 actions fail, with them they are stored', async () => {
    const env = await exampleEnv();
    const token = await mint(USERS.creator);
    const bare = await startWorker('examples/worker.ts', env, ['DB']);
    cleanups.push(() => bare.stop());
    const run = { request_id: 'r1', body: { input_string: 'hi' } };
    expect((await actionClient(bare.url, { token }).run(run)).status).toBe(500);
    const host = await startWorker('examples/worker.ts', env, ['DB'], { d1Migrations: D1_MIGRATIONS });
    cleanups.push(() => host.stop());
    const reply = await actionClient(host.url, { token }).run(run);
    expect(reply.status).toBe(202);
    const db = (await host.miniflare.getD1Database('DB')) as unknown as D1Like;
    expect(await rows(db, 'SELECT action_id FROM gap_actions')).toEqual([{ action_id: reply.body.action_id }]);
  });
});

describe('examples/cloudflare/wrangler.toml, read and built by wrangler', () => {
  const work = mkdtempSync(join(tmpdir(), 'gap-wrangler-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const outdir = join(work, 'out');
  const persist = join(work, 'state');
  /** wrangler's CLI on this Node, non-interactive and without telemetry; resolves to its output once it exits 0. */
  const wrangler = async (...args: string[]) => {
    const cli = await spawnProcess(process.execPath, [`${ROOT}node_modules/wrangler/bin/wrangler.js`, ...args], {
      env: { CI: 'true', WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' },
    });
    const { code } = await cli.exited;
    if (code !== 0) throw new Error(`wrangler ${args.join(' ')} exited with ${code}:\n${cli.output()}`);
    return cli.output();
  };
  let built = '';
  let migratedOutput = '';
  beforeAll(async () => {
    [built, migratedOutput] = await Promise.all([
      wrangler('deploy', '--dry-run', '--outdir', outdir, '-c', TOML),
      wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist, '-c', TOML),
    ]);
  }, 60_000);

  const config = unstable_readConfig({ config: TOML }, { hideWarnings: true });
  const scope = String(config.vars['PROVIDER_SCOPE']);
  /** A token for the creator holding the toml's scope. */
  const token = () => mint(USERS.creator, { scope });

  it('points at examples/worker.ts and names the bindings, Durable Object class, secrets and cron the Worker uses', () => {
    expect(config.main).toBe(join(ROOT, 'examples/worker.ts'));
    expect(config.compatibility_date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(config.compatibility_flags).toEqual([]);
    expect(config.d1_databases).toEqual([expect.objectContaining({ binding: 'DB', migrations_dir: 'migrations' })]);
    expect(existsSync(join(ROOT, 'examples/cloudflare', config.d1_databases[0]?.migrations_dir ?? ''))).toBe(true);
    expect(config.secrets?.required).toEqual(['GLOBUS_CLIENT_ID', 'GLOBUS_CLIENT_SECRET']);
    expect(Object.keys(config.vars)).toEqual(['PROVIDER_SCOPE']);
    expect(config.vars['PROVIDER_SCOPE']).toMatch(/^https:\/\/auth\.globus\.org\/scopes\/[0-9a-f-]{36}\/action_all$/);
    expect(config.triggers.crons).toEqual([expect.stringMatching(/^(\S+ ){4}\S+$/)]);
    // The class examples/worker.ts exports, SQLite-backed, created by the toml's one migration.
    expect(config.durable_objects.bindings).toEqual([{ name: 'ACTION_WORK', class_name: 'ActionWork' }]);
    expect(config.migrations).toEqual([{ tag: 'v1', new_sqlite_classes: ['ActionWork'] }]);
  });

  it("passes the Worker only the secrets under [secrets] required, so JWTs need the toml's own JWT_JWKS line", () => {
    // A copy beside a .dev.vars of its own (never the one a developer may keep in examples/cloudflare).
    const dir = join(work, 'secrets');
    mkdirSync(dir, { recursive: true });
    const text = readFileSync(TOML, 'utf8').replace('main = "../worker.ts"', `main = ${JSON.stringify(config.main)}`);
    writeFileSync(join(dir, '.dev.vars'), 'GLOBUS_CLIENT_ID=a\nGLOBUS_CLIENT_SECRET=b\nJWT_JWKS={"keys":[]}\n');
    const bindings = (toml: string) => {
      writeFileSync(join(dir, 'wrangler.toml'), toml);
      const { workerOptions } = unstable_getMiniflareWorkerOptions(join(dir, 'wrangler.toml'));
      return Object.keys(workerOptions['bindings'] as Record<string, unknown>).sort();
    };
    // As shipped: JWT_JWKS in .dev.vars never reaches the Worker (and `wrangler deploy` wants both Globus secrets).
    expect(bindings(text)).toEqual(['GLOBUS_CLIENT_ID', 'GLOBUS_CLIENT_SECRET', 'PROVIDER_SCOPE']);
    // The line the toml's comment gives for JWTs from your own issuer, in place of the shipped one.
    const jwtLine = /^#\s*(required = \["JWT_JWKS"\])/m.exec(text)?.[1];
    expect(jwtLine).toBeDefined();
    const jwt = text.replace(/^required = .*$/m, jwtLine ?? '');
    expect(bindings(jwt)).toEqual(['JWT_JWKS', 'PROVIDER_SCOPE']);
  });

  it('bundles with `wrangler deploy --dry-run` (no nodejs_compat needed) and migrates D1 with `wrangler d1 migrations apply --local`', async () => {
    expect(built).toMatch(/env\.DB \(globus-echo-actions\)\s+D1 Database/);
    expect(built).toMatch(/env\.ACTION_WORK \(ActionWork\)\s+Durable Object/);
    expect(readFileSync(join(outdir, 'worker.js'), 'utf8')).not.toMatch(/from\s*["']node:/);
    expect(migratedOutput).toMatch(/0001_actions\.sql\s*│\s*✅/);
    expect(migratedOutput).toMatch(/0002_work\.sql\s*│\s*✅/);
  });

  describe('the bundle in workerd, with the bindings wrangler derives from the toml', () => {
    let miniflare: Miniflare;
    let url = '';
    let db: D1Like;
    beforeAll(async () => {
      const { workerOptions } = unstable_getMiniflareWorkerOptions(TOML);
      miniflare = new Miniflare({
        ...workerOptions,
        modules: true,
        modulesRoot: outdir,
        scriptPath: join(outdir, 'worker.js'),
        // The test issuer's key where the secrets would be, and the toml's vars (its PROVIDER_SCOPE).
        bindings: { ...(await exampleEnv()), ...(workerOptions['bindings'] as Record<string, unknown>) },
        d1Persist: join(persist, 'v3', 'd1'), // where `--persist-to` put the migrated database
        port: 0,
        host: '127.0.0.1',
      });
      cleanups.push(() => miniflare.dispose());
      url = (await miniflare.ready).href.replace(/\/$/, '');
      db = (await miniflare.getD1Database('DB')) as unknown as D1Like;
    }, 60_000);

    it('finds the D1 migrated as the tests migrate one (test/support/d1-migrations.ts)', async () => {
      const [ours] = (await d1s('DB')) as [D1Like];
      await applyD1Migrations(ours);
      expect(await schema(db)).toEqual(await schema(ours));
      expect(await rows(db, 'SELECT name FROM d1_migrations')).toEqual(
        await rows(ours, 'SELECT name FROM d1_migrations'),
      );
    });

    it("answers introspection without a token, and runs the echo action into D1, echoed by the action's Durable Object", async () => {
      const introspection = await actionClient(url).introspect();
      expect(introspection.status).toBe(200);
      expect(introspection.body).toMatchObject({ title: 'Echo', globus_auth_scope: scope, synchronous: false });
      const client = actionClient(url, { token: await token() });
      const run = await client.run({ request_id: 'echo-1', body: { input_string: 'hello' } });
      expect(run.status).toBe(202);
      expect(run.body).toMatchObject({ status: 'ACTIVE', display_status: 'Queued' });
      const id = run.body.action_id as string;
      expect(await waitFor(async () => (await client.status(id)).body.status !== 'ACTIVE')).toBe(true);
      expect((await client.status(id)).body).toMatchObject({ status: 'SUCCEEDED', details: { you_said: 'hello' } });
      expect(await rows(db, 'SELECT action_id FROM gap_work')).toEqual([]); // done: its work row is gone
    });

    it("sweeps expired actions from D1 when the toml's cron fires the scheduled handler", async () => {
      const client = actionClient(url, { token: await token() });
      const gone = await client.run({ request_id: 'sweep-1', body: { input_string: 'x' }, release_after: 0 });
      const kept = await client.run({ request_id: 'sweep-2', body: { input_string: 'y' }, release_after: 'P1D' });
      const id = (reply: typeof gone) => reply.body.action_id as string;
      const stored = async () => (await rows(db, 'SELECT action_id FROM gap_actions')).map((r) => r['action_id']);
      expect(await stored()).toEqual(expect.arrayContaining([id(gone), id(kept)]));
      // Once echoed it expires at once (release_after 0): never served, though still stored.
      expect(await waitFor(async () => (await client.status(id(gone))).status === 404)).toBe(true);
      expect(await waitFor(async () => (await client.status(id(kept))).body.status === 'SUCCEEDED')).toBe(true);
      // Miniflare's Fetcher type does not carry scheduled(); the runtime object does.
      type Scheduler = { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
      const worker = (await miniflare.getWorker()) as unknown as Scheduler;
      expect((await worker.scheduled({ cron: config.triggers.crons[0] ?? '' })).outcome).toBe('ok');
      expect(await waitFor(async () => !(await stored()).includes(id(gone)))).toBe(true);
      expect(await stored()).toContain(id(kept));
      expect((await client.status(id(kept))).status).toBe(200);
    });
  });
});
