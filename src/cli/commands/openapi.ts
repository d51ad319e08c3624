/**
 * @module cli/commands/openapi: `globus-action-provider openapi <module>`, the OpenAPI 3.1
 * document of the provider a module exports (`provider.openapi()`), printed alone on stdout as JSON.
 */
import { parseArgs } from 'node:util';
import { type CliIo, type Command, UsageError } from '../command.ts';
import { importModule, pickProvider } from '../provider-module.ts';

const help = `Usage: globus-action-provider openapi <module> [options]

Print the OpenAPI 3.1 document of the Action Provider a module exports, as JSON, ready to
register with Globus Flows as a Registered API:

  npx globus-action-provider openapi src/provider.ts --url https://example.org/echo > api.json

<module> is a TypeScript or JavaScript file whose default export (or the export --export names)
is an ActionProvider, or a function that returns one (or a promise of one), called without
arguments. The module is imported, so its top-level code runs: export the provider from a module
that does not also start a server. Whatever it prints goes to stderr.

TypeScript is loaded with tsx when the module's project has it installed (npm i -D tsx: it
honours the project's tsconfig), else by Node itself, which strips types from 22.18 on
(erasable syntax only, relative imports with their .ts extension).

Options:
  --export <name>   the export to use (default: the default export, else the only export that is
                    a provider)
  --url <base>      the provider's public base URL, its prefix included: the document's servers
  -h, --help        show this help

Exit 1: the module failed to load or build its provider. Exit 2: bad arguments, no such file,
no such export, or an export that is no provider.
`;

const options = {
  export: { type: 'string' },
  url: { type: 'string' },
} as const;

/** `console` methods that print to stdout, sent to stderr while the module loads: stdout is the document's. */
const STDOUT_METHODS = ['log', 'info', 'debug'] as const;

async function run(args: string[], io: CliIo): Promise<number> {
  const { file, values } = parse(args);
  if (values.export === '') throw new UsageError('--export must name an export');
  const saved = STDOUT_METHODS.map((method) => console[method]);
  // A CLI process of its own: nothing else prints meanwhile, and the methods come back below.
  for (const method of STDOUT_METHODS) console[method] = (...data: unknown[]) => console.error(...data);
  let provider: Awaited<ReturnType<typeof pickProvider>>;
  try {
    provider = await pickProvider(await importModule(file, process.cwd()), file, values.export);
  } finally {
    STDOUT_METHODS.forEach((method, i) => {
      console[method] = saved[i] as (typeof console)[typeof method];
    });
  }
  try {
    let document: unknown;
    try {
      document = provider.openapi(values.url === undefined ? undefined : { url: values.url });
    } catch (error) {
      if (error instanceof TypeError && values.url !== undefined) throw new UsageError(`--url: ${error.message}`);
      throw error;
    }
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    return 0;
  } finally {
    // Its store's connections or files, so that the process can end.
    await provider.close?.();
  }
}

/** The module (the one positional argument) and the options, strictly parsed as parseCommandArgs does. */
function parse(args: string[]) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || file === '')
    throw new UsageError('name the module: globus-action-provider openapi <module>');
  if (extra.length > 0) throw new UsageError(`one module only; unexpected '${extra.join(' ')}'`);
  return { file, values: parsed.values };
}

export const openapi: Command = {
  name: 'openapi',
  summary: "print a provider module's OpenAPI 3.1 document",
  help,
  run,
};
