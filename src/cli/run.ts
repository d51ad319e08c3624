/**
 * @module cli/run: the CLI's dispatcher: picks the command named by the first argument, answers
 * `--help`, and turns what a command throws into a message and an exit code (0 ok, 1 failed,
 * 2 usage).
 */
import { type CliIo, type Command, UsageError } from './command.ts';
import { cancel } from './commands/cancel.ts';
import { check } from './commands/check.ts';
import { introspect } from './commands/introspect.ts';
import { list } from './commands/list.ts';
import { log } from './commands/log.ts';
import { openapi } from './commands/openapi.ts';
import { release } from './commands/release.ts';
import { resume } from './commands/resume.ts';
import { run } from './commands/run.ts';
import { status } from './commands/status.ts';
import { token } from './commands/token.ts';
import { terminalSafe } from './terminal.ts';

export const CLI_NAME = 'globus-action-provider';

/** Every command; a new one is a module in commands/ and a line here. */
const COMMANDS: readonly Command[] = [
  introspect,
  run,
  status,
  cancel,
  release,
  resume,
  log,
  list,
  check,
  token,
  openapi,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    `Usage: ${CLI_NAME} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  -h, --help  show this help',
    '',
    `Run '${CLI_NAME} <command> --help' for a command's options.`,
    '',
  ].join('\n');
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

/**
 * Run the CLI on `argv` (the arguments after the program name); resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout, stderr, env: process.env })
 * ```
 */
export async function runCli(argv: readonly string[], raw: CliIo): Promise<number> {
  // Commands print what providers answer: no control character of theirs reaches the terminal.
  const io: CliIo = {
    stdout: (text) => raw.stdout(terminalSafe(text)),
    stderr: (text) => raw.stderr(terminalSafe(text)),
    env: raw.env,
    ...(raw.terminal === undefined ? {} : { terminal: raw.terminal }),
  };
  const [name, ...args] = argv;
  if (name === undefined || name === '') {
    io.stderr(help());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = COMMANDS.find((command) => command.name === args[0]);
    io.stdout(about ? about.help : help());
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr(`${CLI_NAME}: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (wantsHelp(args)) {
    io.stdout(command.help);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${CLI_NAME} ${command.name}: ${error.message}\nRun '${CLI_NAME} ${command.name} --help' for usage.\n`);
      return 2;
    }
    io.stderr(`${CLI_NAME} ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
