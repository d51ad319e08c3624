/**
 * @module test/cli-openapi: `globus-action-provider openapi <module>` as a child process: the
 * document of a default export, a named one, a factory (async too) on stdout, alone, valid
 * OpenAPI 3.1 and the same as `provider.openapi()` in process; `--url`; usage errors (exit 2)
 * and failures (exit 1); TypeScript loaded with tsx where the project has it, by Node's own type
 * stripping where it has not; the same document from the CLI on Bun and Deno; and the compiled bin,
 * as an installed package runs it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import defaultProvider from './fixtures/default-export.ts';
import { zodProvider } from './fixtures/openapi-zod.ts';
import { BIN, ROOT } from './support/processes.ts';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function exec(command: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, DATA_DIR: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The CLI from its TypeScript source, as `npm run cli` runs it (tsx registered). */
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
/** The CLI on Node alone: its own sources by Node's type stripping, and nothing registered for the module. */
const bareCli = (...args: string[]) => exec(process.execPath, ['src/cli/main.ts', ...args]);

const asJson = (document: unknown) => JSON.parse(JSON.stringify(document));

async function expectValid(document: unknown): Promise<void> {
  const result = await new Validator().validate(document as never);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
}

describe('globus-action-provider openapi: the document on stdout', () => {
  it('of a default export: valid OpenAPI 3.1, the same as provider.openapi(), nothing else on stdout', async () => {
    const { code, stdout, stderr } = await cli('openapi', 'test/fixtures/default-export.ts');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const document = JSON.parse(stdout);
    await expectValid(document);
    expect(document).toEqual(asJson(defaultProvider.openapi()));
    expect(stdout.endsWith('}\n')).toBe(true);
  });

  it('with --url: its servers, prefix included', async () => {
    const { code, stdout } = await cli(
      'openapi',
      '--url',
      'https://example.org/echo/',
      'test/fixtures/default-export.ts',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout).servers).toEqual([{ url: 'https://example.org/echo' }]);
  });

  it('of the only provider among named exports, of a named one, of a factory and an async one', async () => {
    const only = await cli('openapi', 'test/fixtures/openapi-exports.ts');
    expect(only.code).toBe(0);
    expect(JSON.parse(only.stdout)).toEqual(asJson(zodProvider().openapi()));
    // What the module printed as it loaded went to stderr: stdout is the document alone.
    expect(only.stderr).toBe('loading the providers\nstill loading\n');
    const named = await cli('openapi', 'test/fixtures/openapi-exports.ts', '--export', 'zod');
    expect(named.stdout).toBe(only.stdout);
    for (const factory of ['echo', 'laterEcho']) {
      const made = await cli('openapi', 'test/fixtures/openapi-exports.ts', `--export=${factory}`);
      expect(made.code, made.stderr).toBe(0);
      const document = JSON.parse(made.stdout);
      expect(document.info.title).toBe('Echo');
      expect(document.paths['/{action_id}/log']).toBeDefined();
      await expectValid(document);
    }
  });

  it('--help: the usage, the options, how TypeScript is loaded; the CLI lists the command', async () => {
    const { code, stdout } = await cli('openapi', '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: globus-action-provider openapi <module> \[options\]/);
    for (const text of ['--export', '--url', 'tsx', 'strips types']) expect(stdout).toContain(text);
    const root = await cli('--help');
    expect(root.stdout).toMatch(/^ {2}openapi {2,}print a provider module's OpenAPI 3\.1 document$/m);
    expect((await cli('help', 'openapi')).stdout).toBe(stdout);
  });
});

describe('globus-action-provider openapi: usage errors (exit 2) and failures (exit 1)', () => {
  const exports = 'test/fixtures/openapi-exports.ts';
  it.each([
    ['no module', [], /name the module/],
    ['no such file', ['test/fixtures/nowhere.ts'], /nowhere\.ts: no such file/],
    ['two modules', [exports, 'more.ts'], /one module only/],
    ['an unknown option', [exports, '--bogus'], /Unknown option '--bogus'/],
    ['no such export', [exports, '--export', 'nope'], /no export named 'nope' \(it exports .*zod/],
    ['a handler, not a provider', [exports, '--export', 'handler'], /export 'handler' has no openapi\(\)/],
    ['a constant', [exports, '--export', 'TITLE'], /export 'TITLE' is not an ActionProvider/],
    ['a bad --url', ['test/fixtures/default-export.ts', '--url', 'ftp://x'], /--url: openapi: url must be/],
    ['an empty --export', [exports, '--export', ''], /--export must name an export/],
    [
      'several providers and no default',
      ['test/fixtures/openapi-zod.ts'],
      /no default export and no single provider among its exports \(ZOD_SCOPE, zodProvider\): pass --export/,
    ],
  ])('%s: exit 2, the message on stderr, nothing on stdout', async (_name, args, message) => {
    const { code, stdout, stderr } = await cli('openapi', ...(args as string[]));
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(message);
    expect(stderr).toContain("Run 'globus-action-provider openapi --help'");
  });

  it('a factory that throws: exit 1, saying which', async () => {
    const { code, stdout, stderr } = await cli('openapi', exports, '--export', 'failing');
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toContain('failing() failed: PROVIDER_CONFIG is not set');
  });

  it('a module that throws as it loads: exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gap-openapi-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'broken.mjs'), "throw new Error('no database');\n");
    const { code, stderr } = await cli('openapi', join(dir, 'broken.mjs'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot load .*broken\.mjs: no database/);
  });
});

describe('globus-action-provider openapi: loading TypeScript', () => {
  const outside = (name: string, text: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gap-openapi-'));
    dirs.push(dir);
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const library = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  const providerModule = (extra: string) => `import { createActionProvider, jwtAuth, silentLogger } from '${library}';
${extra}
export default createActionProvider({
  description: { title: TITLE, globus_auth_scope: 'https://auth.globus.org/scopes/x/y', admin_contact: 'a@example.org' },
  auth: jwtAuth({ jwks: { keys: [] } }),
  logger: silentLogger,
  run: (): { status: 'SUCCEEDED' } => ({ status: 'SUCCEEDED' }),
});
`;

  it('with tsx installed in the project: what Node cannot strip (an enum) loads', async () => {
    const { code, stdout, stderr } = await bareCli('openapi', 'test/fixtures/openapi-enum.ts');
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).security).toEqual([
      { GlobusAuth: ['https://auth.globus.org/scopes/33333333-3333-4333-8333-333333333333/enum'] },
    ]);
  });

  it('without tsx: erasable TypeScript by Node itself; an enum fails, saying to install tsx', async () => {
    const plain = outside('provider.ts', providerModule("const TITLE: string = 'Stripped';"));
    const stripped = await bareCli('openapi', plain);
    expect(stripped.code, stripped.stderr).toBe(0);
    expect(JSON.parse(stripped.stdout).info.title).toBe('Stripped');
    const enumModule = outside('enum.ts', providerModule("enum Titles { A = 'Enum' }\nconst TITLE = Titles.A;"));
    const refused = await bareCli('openapi', enumModule);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/cannot load .*enum\.ts: .*install tsx in the project, npm i -D tsx/);
  });
});

describe('globus-action-provider openapi on Bun and Deno: the same document', () => {
  it.each([
    ['Bun', BIN('bun'), ['src/cli/main.ts']],
    ['Deno', BIN('deno'), ['run', '--allow-all', 'src/cli/main.ts']],
  ])(
    '%s',
    async (_name, command, args) => {
      const node = await cli(
        'openapi',
        'test/fixtures/openapi-exports.ts',
        '--export',
        'echo',
        '--url',
        'https://e.org/',
      );
      const other = await exec(command, [
        ...args,
        'openapi',
        'test/fixtures/openapi-exports.ts',
        '--export',
        'echo',
        '--url',
        'https://e.org/',
      ]);
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout).toBe(node.stdout);
    },
    60_000,
  );
});

describe('the compiled bin (tsc -p tsconfig.build.json), as an installed package runs it', () => {
  it('prints the document of a JavaScript module, and of TypeScript through the project’s tsx', async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const out = mkdtempSync(join(ROOT, '.tmp', 'cli-openapi-build-'));
    dirs.push(out);
    const built = await exec(BIN('tsc'), ['-p', 'tsconfig.build.json', '--outDir', out]);
    expect(built.code, built.stdout).toBe(0);
    const main = join(out, 'src/cli/main.js');
    const module = join(out, 'provider.mjs');
    writeFileSync(
      module,
      `import { createActionProvider, jwtAuth, silentLogger } from './src/index.js';
export const provider = createActionProvider({
  description: { title: 'Compiled', globus_auth_scope: 'https://auth.globus.org/scopes/x/y', admin_contact: 'a@example.org' },
  auth: jwtAuth({ jwks: { keys: [] } }),
  logger: silentLogger,
  run: () => ({ status: 'SUCCEEDED' }),
});
`,
    );
    const js = await exec(process.execPath, [main, 'openapi', module, '--url', 'https://example.org/c']);
    expect(js.code, js.stderr).toBe(0);
    const document = JSON.parse(js.stdout);
    expect(document.info.title).toBe('Compiled');
    await expectValid(document);
    const ts = await exec(process.execPath, [main, 'openapi', 'test/fixtures/openapi-enum.ts']);
    expect(ts.code, ts.stderr).toBe(0);
    expect(JSON.parse(ts.stdout).info.title).toBe('Enum');
  }, 120_000);
});
