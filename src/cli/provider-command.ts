/**
 * @module cli/provider-command: what the commands that call a provider (introspect, run,
 * status, cancel, release, resume, log, list) share: the URL and ID words, `--routes`,
 * `--json` and the token options; the client they call through; and a provider's refusal (or
 * no answer) reported on stderr as exit 1, saying what to do about a Globus Auth requirement.
 */
import type { ParseArgsConfig } from 'node:util';
import { type ActionProviderClient, actionProviderClient } from '../client/client.ts';
import { type ActionProviderError, isActionProviderError } from '../client/errors.ts';
import { isAddressable, type RouteFamily } from '../client/request.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command.ts';
import { type AdviceContext, requirementAdvice } from './requirement.ts';
import { resolveToken, TOKEN_ENV, TOKEN_HELP, tokenOptions } from './token-source.ts';

const CLI = 'globus-action-provider';

/** The options every provider command takes (spread into its own). */
export const providerOptions = {
  ...tokenOptions,
  routes: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Their lines in a command's `--help`. */
export const PROVIDER_HELP = `  --routes <family>     legacy (default: /run, /{id}/status, ..., as Globus Flows calls)
                        or actions (/actions, /actions/{id}, ...)
  --json                print the provider's JSON answer instead of a summary
${TOKEN_HELP}
  -h, --help            show this help`;

/** The exit codes, for every provider command's `--help`. */
export const EXIT_HELP = `Exit status: 0 done; 1 the provider refused (its code and description on stderr) or did
not answer; 2 bad arguments.`;

/** The parsed options, read by name: the shared ones are typed by `providerOptions` whatever the command adds. */
type Values = { [key: string]: string | boolean | (string | boolean)[] | undefined };

/** What a command's body gets: its words, its checked options, the client, and where to write. */
export interface ProviderCall<P> {
  /** The action id, for commands that take one. */
  id: string;
  /** What the command's `check` made of its options. */
  input: P;
  client: ActionProviderClient;
  io: CliIo;
  json: boolean;
  /** A command line to suggest: `globus-action-provider <command> URL [ID] [--routes actions]`. */
  again(command: string, actionId?: string): string;
  /** For an INACTIVE action: what to do once its requirement is met, and whether the token is a dev one. */
  advice: AdviceContext;
}

/** Where the token came from: none sent, given (--token or the variable), or minted from a dev-mode key. */
type TokenOrigin = 'none' | 'given' | 'dev';

type ValuesOf<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseCommandArgs<O & typeof providerOptions>
>['values'];

export interface ProviderCommandSpec<O extends NonNullable<ParseArgsConfig['options']>, P> {
  name: string;
  summary: string;
  help: string;
  /** The command's own options (the shared ones are added). */
  options: O;
  /** `['URL']` or `['URL', 'ID']`. */
  positionals: readonly ['URL'] | readonly ['URL', 'ID'];
  /** The command's own options checked (throwing UsageError), before any token is looked for. */
  check(values: ValuesOf<O>): P | Promise<P>;
  run(call: ProviderCall<P>): Promise<number>;
}

function family(value: unknown): RouteFamily {
  if (value === undefined || value === 'legacy') return 'legacy';
  if (value === 'actions') return 'actions';
  throw new UsageError(`--routes must be legacy or actions, not '${String(value)}'`);
}

function providerUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new UsageError(`URL must be a provider's http(s) URL, not '${text}'`);
  return text;
}

/** A shell word: as it is when it needs no quoting, else in single quotes. */
export const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/** A command of the provider family: its options parsed, its client built, a refusal reported (exit 1). */
export function providerCommand<O extends NonNullable<ParseArgsConfig['options']>, P>(
  spec: ProviderCommandSpec<O, P>,
): Command {
  const options = { ...spec.options, ...providerOptions } as O & typeof providerOptions;
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs(args, options, spec.positionals);
      const [rawUrl = '', id = ''] = positionals;
      const url = providerUrl(rawUrl);
      if (spec.positionals.length > 1 && id.trim() === '') throw new UsageError('ID must not be empty');
      if (spec.positionals.length > 1 && !isAddressable(id))
        throw new UsageError(`ID must not be '${id}': a URL cannot hold it (it would reach another route)`);
      const loose = values as Values;
      const routes = family(loose['routes']);
      const input = await spec.check(values as ValuesOf<O>);
      const given = typeof loose['token'] === 'string' || Boolean(io.env[TOKEN_ENV]?.trim());
      const token = await resolveToken(
        { token: loose['token'] as string | undefined, 'dev-dir': loose['dev-dir'] as string | undefined },
        io,
      );
      const client = actionProviderClient(url, { ...(token === undefined ? {} : { token }), routes });
      // A provider may quote the token back (in an error, in details): it is never printed.
      const redact = (text: string) => (token === undefined ? text : text.replaceAll(token, '<token>'));
      const out: CliIo = {
        ...io,
        stdout: (text) => io.stdout(redact(text)),
        stderr: (text) => io.stderr(redact(text)),
      };
      const routesWord = routes === 'actions' ? ' --routes actions' : '';
      const again = (command: string, actionId?: string) =>
        `${CLI} ${command} ${shellWord(url)}${actionId ? ` ${shellWord(actionId)}` : ''}${routesWord}`;
      const origin: TokenOrigin = token === undefined ? 'none' : given ? 'given' : 'dev';
      const advice = { next: `resume: ${again('resume', id)}`, dev: origin === 'dev' };
      try {
        return await spec.run({ id, input, client, io: out, json: loose['json'] === true, again, advice });
      } catch (error) {
        if (!isActionProviderError(error)) throw error;
        out.stderr(failureReport(error, { command: spec.name, id, again, token: origin }));
        return 1;
      }
    },
  };
}

interface FailureContext {
  command: string;
  /** The action id the command was given ('' for none). */
  id: string;
  again(command: string, actionId?: string): string;
  token: TokenOrigin;
}

/** What went wrong, on stderr: the code and description, and what to do next when that is known. */
function failureReport(error: ActionProviderError, context: FailureContext): string {
  const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
  const lines = [`${CLI} ${context.command}: ${error.code}${status}: ${error.description}`];
  if (error.requirement !== undefined) {
    const next = context.id === '' ? `${context.command} again` : `resume: ${context.again('resume', context.id)}`;
    // The session message is often the description just printed: said once.
    const { session_message: message, ...rest } = error.requirement.authorization_parameters;
    const parameters = message === error.description ? rest : error.requirement.authorization_parameters;
    const gare = { code: error.requirement.code, authorization_parameters: parameters };
    lines.push(...requirementAdvice(gare, { next, dev: context.token === 'dev' }));
  } else if (error.status === 401) {
    lines.push(
      context.token === 'none'
        ? `  No token was sent: pass one with --token or $${TOKEN_ENV} (or --dev-dir for a provider in dev mode).`
        : '  The provider refused the token: it may have expired, or be for another scope.',
    );
  }
  return `${lines.join('\n')}\n`;
}
