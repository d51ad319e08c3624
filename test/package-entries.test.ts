/**
 * @module test/package-entries: the package by its own name. Every `exports` entry has its
 * TypeScript source, and tsconfig.json's `paths` (tsc, tsx, vitest, esbuild, Bun) and
 * deno.json's `imports` send that name to exactly that source; the examples import nothing
 * else of ours; and the tarball carries them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as byName from 'globus-action-provider';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as bySource from '../src/index.ts';
import { ROOT } from './support/processes.ts';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json'));
const tsconfig = ts.parseConfigFileTextToJson('tsconfig.json', read('tsconfig.json')).config;
const deno = JSON.parse(read('deno.json'));

/** Each entry's import name and the source its dist file is built from. */
const ENTRIES: [string, string][] = Object.entries(pkg.exports as Record<string, unknown>)
  .filter(([key]) => key !== './package.json')
  .map(([key, value]) => {
    const { default: main } = value as { default: string };
    return [`globus-action-provider${key.slice(1)}`, main.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts')];
  });

describe('the package by its own name', () => {
  it('has types beside the code of every entry', () => {
    for (const [key, value] of Object.entries(pkg.exports as Record<string, { types: string; default: string }>))
      if (key !== './package.json') expect(value.types, key).toBe(value.default.replace(/\.js$/, '.d.ts'));
  });

  it('has a source for every entry, dev and client included', () => {
    expect(ENTRIES.map(([name]) => name)).toContain('globus-action-provider/dev');
    expect(ENTRIES).toContainEqual(['globus-action-provider/client', './src/client/index.ts']);
    for (const [, source] of ENTRIES) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it('resolves to those sources in tsconfig.json paths and deno.json imports, and nothing more', () => {
    expect(tsconfig.compilerOptions.paths).toEqual(Object.fromEntries(ENTRIES.map(([name, src]) => [name, [src]])));
    expect(deno.imports).toEqual(Object.fromEntries(ENTRIES));
  });

  it('is the very modules of src/ under vitest, not a copy from dist/', () => {
    expect(byName.createActionProvider).toBe(bySource.createActionProvider);
  });

  it('is how the examples import the toolkit: no relative path into src/ or adapters/', () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((file) => file.endsWith('.ts'));
    expect(examples.length).toBeGreaterThan(5);
    for (const file of examples) {
      const text = read(`examples/${file}`);
      expect(text, file).not.toMatch(/from '\.\.\/|import\('\.\.\//);
    }
    expect(read('examples/echo.ts')).toMatch(/from 'globus-action-provider'/);
  });

  it('has a bin whose source starts with a shebang', () => {
    expect(pkg.bin).toEqual({ 'globus-action-provider': './dist/src/cli/main.js' });
    expect(read('src/cli/main.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('ships the examples in the tarball, and no data directory or tests', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
    });
    const files: string[] = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path);
    for (const example of ['examples/node.ts', 'examples/echo.ts', 'examples/dev-auth.ts', 'examples/worker.ts'])
      expect(files).toContain(example);
    expect(files).toContain('src/dev/index.ts');
    expect(files).toContain('src/cli/main.ts');
    expect(files.filter((file) => /^(test|\.data|\.tmp)\//.test(file))).toEqual([]);
  });
});
