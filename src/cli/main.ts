#!/usr/bin/env node
/** @module cli/main: the package's bin, `globus-action-provider <command>`: process.argv and stdio in, an exit code out. */
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  ...(process.stderr.isTTY ? { terminal: (text: string) => process.stderr.write(text) } : {}),
});
