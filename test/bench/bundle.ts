/**
 * @module test/bench/bundle: a benchmark server as esbuild-bundled JavaScript (dependencies
 * left in node_modules), as a user's compiled provider would run: under tsx, esbuild's
 * keepNames wraps every closure in a `__name()` call, a cost production code does not pay.
 */
import { build } from 'esbuild';
import { ROOT } from '../support/processes.ts';

/** Bundle `entry` (a path from the project root); resolves to the bundle's path. */
export async function bundledServer(entry: string): Promise<string> {
  const outfile = `${ROOT}node_modules/.cache/globus-action-provider-bench/${entry.replace(/\W/g, '_')}.mjs`;
  await build({
    entryPoints: [`${ROOT}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}
