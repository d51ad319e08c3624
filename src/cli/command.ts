/**
 * @module cli/command: what a command of the `globus-action-provider` CLI is (one module per
 * command, listed in cli/run.ts), what it may touch, and how it reports a usage error.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a command may use instead of `process`: testable, and the same on Node, Bun and Deno. */
export interface CliIo {
  /** Standard output: a command's result, nothing else (so `$(...)` captures just that). */
  stdout(text: string): void;
  /** Standard error: messages for the person at the terminal. */
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  name: string;
  /** One line, for the CLI's own help. */
  summary: string;
  /** The command's `--help`. */
  help: string;
  /** Answers the exit code (0 done, 1 failed); throws `UsageError` for bad arguments. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** The arguments are wrong: exit code 2, the message on stderr with a pointer to `--help`. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

/** `parseArgs`, strict (unknown options and stray words are errors), its complaints as UsageErrors. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}
