/**
 * @module test/package: the package as a consumer gets it. `npm pack` (which builds), the
 * tarball unpacked into a fresh project beside only the dependencies a consumer would have
 * (no better-sqlite3, no @types/express, no express), then: publint and attw on the tarball,
 * a strict compile against it (`skipLibCheck: false`), the compiled program run on Node (this
 * one: CI runs the file on each LTS line), Bun and Deno, and the portable entries bundled for
 * a browser and for Workers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from './support/processes.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'gap-package-'));
const consumer = join(dir, 'consumer');
let tarball: string;

/** What a consumer installs beside the package: its dependencies and peers, and TypeScript with Node's types. */
const INSTALLED = [
  'hono',
  '@hono/node-server',
  'valibot',
  '@valibot/to-json-schema',
  'jose',
  '@cfworker/json-schema',
  '@standard-schema/spec',
  'zod',
  'arktype',
];
const TOOLS = ['typescript', '@types/node', 'undici-types', '@cloudflare/workers-types'];

/**
 * A Worker as a Workers project writes it: bindings typed with @cloudflare/workers-types, no Node
 * types. (Not ArkType here: its own declarations name Node's \`buffer\` module, so a Workers
 * project using it needs @types/node or skipLibCheck, whatever this package does.)
 */
const WORKER = `
import { createActionProvider } from 'globus-action-provider';
import { actionWorkObject, worker } from 'globus-action-provider/cloudflare-workers';
import { d1Store } from 'globus-action-provider/d1';
import { globusAuth, globusAuthOptionsFromEnv } from 'globus-action-provider/globus';
import * as v from 'valibot';
import { z } from 'zod';

interface Env {
  DB: D1Database;
  ACTION_WORK: DurableObjectNamespace;
  GLOBUS_CLIENT_ID: string;
  GLOBUS_CLIENT_SECRET: string;
  VALIBOT?: string;
}

const build = async (env: Env) => {
  const options = globusAuthOptionsFromEnv(env);
  if (options === undefined) throw new Error('no Globus credentials');
  return createActionProvider({
    description: { title: 'W', globus_auth_scope: 's', admin_contact: 'a@example.org' },
    input: env.VALIBOT === undefined ? z.object({ n: z.number() }) : v.object({ n: v.number() }),
    auth: globusAuth(options),
    store: await d1Store(env.DB, { migrate: false, work: env.ACTION_WORK }),
    run: () => ({ status: 'ACTIVE' }),
    work: async ({ action: { request: { body } }, progress }) => {
      await progress({ display_status: 'Doubling' });
      return { status: 'SUCCEEDED', details: { twice: body.n * 2 } };
    },
  });
};

export default worker(build);

/** The Durable Object class, as workerd constructs it (DurableObjectState, Env). */
export class ActionWork extends actionWorkObject(build, { maxAlarmTime: 600_000 }) {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
  }
}
`;

const PROGRAM = `
import { ActionError, createActionProvider, memoryStore } from 'globus-action-provider';
import { globusAuth } from 'globus-action-provider/globus';
import { jwtAuth } from 'globus-action-provider/jwt';
import { openSqliteStore, schemaSql } from 'globus-action-provider/sqlite';
import { fakeGlobus, actionClient } from 'globus-action-provider/testing';
import { actionProviderClient, isActionProviderError } from 'globus-action-provider/client';
import { listen } from 'globus-action-provider/testing/node';
import type { expressMiddleware } from 'globus-action-provider/express';
import type { serve } from 'globus-action-provider/node';
import type { d1Store } from 'globus-action-provider/d1';
import type { postgresStore } from 'globus-action-provider/postgres';
import * as v from 'valibot';
import { z } from 'zod';
import { type } from 'arktype';

type Unused = [typeof expressMiddleware, typeof serve, typeof d1Store, typeof postgresStore, typeof jwtAuth];
export type { Unused };

const SCOPE = 'https://auth.globus.org/scopes/00000000-0000-4000-8000-000000000001/action_all';
const globus = fakeGlobus();
const user = { id: '00000000-0000-4000-8000-0000000000aa', username: 'consumer@example.org' };
globus.addUser(user);
const dataDir = process.argv[2] ?? '.';
const store = await openSqliteStore(dataDir + '/actions.db');
const provider = createActionProvider({
  description: { title: 'Consumer', globus_auth_scope: SCOPE, admin_contact: 'admin@example.org', synchronous: true },
  input: v.object({ n: v.number() }),
  auth: globusAuth(globus.authOptions()),
  store,
  run: ({ request: { body } }) => {
    if (body.n < 0) throw new ActionError('BadActionRequest', 'n must not be negative');
    return { status: 'SUCCEEDED', details: { twice: body.n * 2 } };
  },
});
const token = globus.issueToken({ user: user.id, scopes: [SCOPE] });
const server = await listen(provider);
const client = actionClient(server.url, { token });
const ran = await client.run({ request_id: 'r1', body: { n: 21 } });
const refused = await client.run({ request_id: 'r2', body: { n: 'x' } });
const status = await client.status(String((ran.body as { action_id: string }).action_id));
// The public client: typed answers, and the provider's refusal as a typed error.
const typed = actionProviderClient(server.url, { token, routes: 'actions' });
const described = (await typed.introspect()).title;
const done = await typed.waitFor((await typed.run({ body: { n: 1 } })).action_id, { initialDelay: 10 });
const typedRefusal = await typed.run({ body: { n: -1 } }).then(
  () => 'accepted',
  (error: unknown) => (isActionProviderError(error) ? String(error.status) + ' ' + error.code : 'other'),
);
// The same provider described with zod and with ArkType: the body is typed from each.
const others = [z.object({ n: z.number() }), type({ n: 'number' })].map((input) =>
  createActionProvider({
    description: { title: 'Consumer', globus_auth_scope: SCOPE, admin_contact: 'admin@example.org', synchronous: true },
    input,
    auth: globusAuth(globus.authOptions()),
    run: ({ request: { body } }) => ({ status: 'SUCCEEDED', details: { twice: body.n * 2 } }),
  }),
);
const viaOthers = [];
for (const other of others) {
  const served = await listen(other);
  const otherClient = actionClient(served.url, { token });
  const answer = await otherClient.run({ request_id: 'z', body: { n: 4 } });
  const wrong = await otherClient.run({ request_id: 'y', body: { n: 'four' } });
  const described = await otherClient.introspect();
  viaOthers.push([answer.status, (answer.body as { details: unknown }).details, wrong.status,
    (described.body as { input_schema: { type?: unknown } }).input_schema.type]);
  await served.close();
}
console.log(JSON.stringify({
  ran: ran.status, details: (status.body as { details: unknown }).details, refused: refused.status,
  ddl: schemaSql('sqlite').length > 0, memory: typeof memoryStore, zodAndArkType: viaOthers,
  typed: [described, done.status, done.details, typedRefusal],
}));
await server.close();
await store.close?.();
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    outDir: 'out',
  },
  include: ['main.ts'],
};

beforeAll(async () => {
  await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, maxBuffer: 1 << 24 });
  tarball = join(dir, 'globus-action-provider-0.1.0.tgz');
  const target = join(consumer, 'node_modules', 'globus-action-provider');
  mkdirSync(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  for (const name of [...INSTALLED, ...TOOLS]) {
    const link = join(consumer, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), link, 'dir');
  }
  const dependencies = Object.fromEntries(INSTALLED.map((name) => [name, '*']));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', dependencies }));
  writeFileSync(join(consumer, 'main.ts'), PROGRAM);
  writeFileSync(join(consumer, 'worker.ts'), WORKER);
  writeFileSync(join(consumer, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' })); // node_modules as installed
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('passes publint', async () => {
    const { stdout } = await run(BIN('publint'), ['run', tarball, '--strict']);
    expect(stdout).toContain('All good!');
  });

  it('passes attw with the esm-only profile', async () => {
    const { stdout } = await run(BIN('attw'), ['--profile', 'esm-only', '--format', 'json', tarball], {
      maxBuffer: 1 << 24,
    });
    // The profile ignores CommonJS resolution (node10, node16 from CJS): an ESM-only package.
    const report = JSON.parse(stdout) as { analysis: { problems: { resolutionKind?: string }[] } };
    const ignored = ['node10', 'node16-cjs'];
    expect(report.analysis.problems.filter((p) => !ignored.includes(p.resolutionKind ?? ''))).toEqual([]);
  }, 60_000);

  it('is ready for JSR: deno publish --dry-run passes (no slow types)', async () => {
    // --allow-dirty: a working tree under development; CI runs on a clean clone either way.
    const published = await run(BIN('deno'), ['publish', '--dry-run', '--allow-dirty'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(published.stderr).toMatch(/Success Dry run complete/);
    expect(published.stderr).not.toMatch(/^error/m);
  }, 60_000);

  it('generates the API reference from the TSDoc, with no warning', async () => {
    const out = join(dir, 'api');
    const { stdout } = await run(BIN('typedoc'), ['--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).not.toMatch(/\[warning\]|\[error\]/);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('globus-action-provider');
  }, 60_000);

  it('lists the same entry points for npm, JSR and the API reference', () => {
    const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));
    const npm = Object.entries(json('package.json').exports as Record<string, { default?: string }>)
      .filter(([key]) => key !== './package.json')
      .map(([key, target]) => [key, String(target.default).replace('./dist/', './').replace(/\.js$/, '.ts')]);
    expect(Object.entries(json('deno.json').exports)).toEqual(npm);
    expect(json('typedoc.json').entryPoints).toEqual(npm.map(([, source]) => source));
  });

  it('ships what it runs and nothing of the tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/LICENSE');
    expect(files.filter((f) => f.startsWith('package/test/'))).toEqual([]);
    const manifest = JSON.parse(
      readFileSync(join(consumer, 'node_modules/globus-action-provider/package.json'), 'utf8'),
    );
    expect(manifest.scripts?.prepare).toBeUndefined(); // installing it runs nothing
    expect(Object.keys(manifest.dependencies)).not.toContain('hono'); // a peer, not a nested copy
  });
});

describe('a consumer of the tarball', () => {
  // Two kinds of consumer: a Node project's lib (as @tsconfig/node22 sets it, no DOM: Node's
  // types give fetch, Request and Response) and a web project's. hono before 4.12.3 names DOM's
  // RequestInfo in its declarations, so with those the first needs skipLibCheck or the DOM lib
  // (README, "Runtimes"); CI's run on the oldest peers leaves out the cases marked [newest hono]
  // for that reason (hono 4.8's declarations also clash with @cloudflare/workers-types').
  it.each([
    ['a Node project (lib ES2023, without the DOM lib) [newest hono]', ['ES2023'], true],
    ['a web project (lib ES2023 and DOM)', ['ES2023', 'DOM', 'DOM.Iterable'], false],
  ])(
    'compiles strictly for %s, skipLibCheck false, without @types/express',
    async (_name, lib, noEmit) => {
      const config = join(consumer, `tsconfig.${lib.length}.json`);
      writeFileSync(
        config,
        JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, lib, noEmit } }),
      );
      const tsc = join(consumer, 'node_modules/typescript/bin/tsc');
      const compiled = await run(process.execPath, [tsc, '-p', config], { cwd: consumer }).catch((error) => error);
      expect(`${compiled.stdout ?? ''}${compiled.stderr ?? ''}`).toBe('');
    },
    60_000,
  );

  it('compiles strictly for a Workers project (@cloudflare/workers-types, no Node types; zod or valibot) [newest hono]', async () => {
    const config = join(consumer, 'tsconfig.worker.json');
    const compilerOptions = { ...TSCONFIG.compilerOptions, lib: ['ES2023'], types: ['@cloudflare/workers-types'] };
    writeFileSync(
      config,
      JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, include: ['worker.ts'] }),
    );
    const tsc = join(consumer, 'node_modules/typescript/bin/tsc');
    const compiled = await run(process.execPath, [tsc, '-p', config], { cwd: consumer }).catch((error) => error);
    expect(`${compiled.stdout ?? ''}${compiled.stderr ?? ''}`).toBe('');
  }, 60_000);

  const other = [202, { twice: 8 }, 422, 'object'];
  const expected = {
    ran: 202,
    details: { twice: 42 },
    refused: 422,
    ddl: true,
    memory: 'function',
    zodAndArkType: [other, other],
    typed: ['Consumer', 'SUCCEEDED', { twice: 2 }, '400 BadActionRequest'],
  };
  const runtimes: [string, () => [string, string[]]][] = [
    [
      `Node ${process.versions.node} (SQLite through node:sqlite: better-sqlite3 is not installed)`,
      () => [process.execPath, ['out/main.js']],
    ],
    ['Bun', () => [BIN('bun'), ['out/main.js']]],
    ['Deno', () => [BIN('deno'), ['run', '-A', 'out/main.js']]],
  ];
  it.each(runtimes)(
    'runs on %s',
    async (_name, command) => {
      const data = mkdtempSync(join(dir, 'data-'));
      const [file, args] = command();
      const { stdout } = await run(file, [...args, data], { cwd: consumer, env: { ...process.env, NO_COLOR: '1' } });
      expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual(expected);
    },
    60_000,
  );

  it.each(['browser', 'neutral'] as const)(
    'bundles the portable entries for platform %s',
    async (platform) => {
      const entry = join(consumer, 'portable.ts');
      writeFileSync(
        entry,
        [
          "export * from 'globus-action-provider';",
          "export * from 'globus-action-provider/testing';",
          "export * from 'globus-action-provider/client';",
          "export * from 'globus-action-provider/jwt';",
          "export * from 'globus-action-provider/globus';",
          "export * from 'globus-action-provider/memory-store';",
          "export * from 'globus-action-provider/d1';",
          "export * from 'globus-action-provider/cloudflare-workers';",
        ].join('\n'),
      );
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: 'esm',
        platform,
        conditions: platform === 'neutral' ? ['workerd', 'worker'] : [],
        mainFields: ['module', 'main'],
        absWorkingDir: consumer,
        logLevel: 'silent',
      });
      const code = result.outputFiles[0]?.text ?? '';
      expect(code).not.toMatch(/from\s*["']node:http["']/);
      expect(code).not.toMatch(/\bnew Function\(|\beval\(/);
    },
    60_000,
  );
});
