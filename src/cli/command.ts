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
  /**
   * Standard error when it is a terminal, written as it is: for a progress line's own control
   * sequences (`stdout` and `stderr` escape every control character, a provider's included).
   */
  terminal?: ((text: string) => void) | undefined;
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

/**
 * `parseArgs`, strict (unknown options and stray words are errors), its complaints as
 * UsageErrors. `positionals` names the words a command takes (`['URL', 'ID']`), each required;
 * without it a command takes none.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  positionals: readonly string[] = [],
) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals.length > 0 });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
  const given = parsed.positionals.length;
  if (given < positionals.length) throw new UsageError(`missing ${positionals.slice(given).join(' and ')}`);
  if (given > positionals.length)
    throw new UsageError(
      `unexpected argument '${parsed.positionals[positionals.length]}' (this command takes ${positionals.join(' ')})`,
    );
  return parsed;
}
