/**
 * @module cli/provider-module: the Action Provider a module file exports, for commands that
 * describe one (`openapi`): the module loaded (TypeScript too), the export picked, a factory
 * called.
 *
 * TypeScript is loaded with tsx when the module's project has it installed (it reads the
 * project's tsconfig: paths, extensionless imports, enums), else by the runtime itself: Node
 * 22.18 and later strip types natively (erasable syntax only, relative imports with their `.ts`
 * extension), and Bun and Deno run TypeScript as it is.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './command.ts';

/** What the commands need of a provider: duck-typed, so a provider built by another copy of the library will do. */
export interface DescribedProvider {
  openapi(options?: { url?: string }): unknown;
  close?(): Promise<void>;
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
/** Node's refusals of TypeScript it cannot strip (or, before 22.18, of any). */
const TYPESCRIPT_REFUSALS = new Set([
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_INVALID_TYPESCRIPT_SYNTAX',
  'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING',
]);

type TsImport = (specifier: string, options: { parentURL: string }) => Promise<Record<string, unknown>>;

/** tsx's `tsImport`, as installed where the module is (its project), or undefined. */
function tsxFor(path: string): TsImport | undefined {
  let api: { tsImport?: unknown };
  try {
    api = createRequire(path)('tsx/esm/api') as { tsImport?: unknown };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
    throw error;
  }
  return typeof api.tsImport === 'function' ? (api.tsImport as TsImport) : undefined;
}

/** The module at `file` (relative to `cwd`), imported: its top-level code runs. */
export async function importModule(file: string, cwd: string): Promise<Record<string, unknown>> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new UsageError(`${file}: no such file`);
  const url = pathToFileURL(path).href;
  const runsTypeScript = 'Bun' in globalThis || 'Deno' in globalThis;
  const tsx = TYPESCRIPT.has(extname(path)) && !runsTypeScript ? tsxFor(path) : undefined;
  try {
    return tsx === undefined ? await import(url) : await tsx(url, { parentURL: import.meta.url });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      typeof code === 'string' && TYPESCRIPT_REFUSALS.has(code)
        ? ' (Node strips only erasable TypeScript, from 22.18 on: install tsx in the project, npm i -D tsx, and this command loads the module with it)'
        : '';
    throw new Error(`cannot load ${file}: ${error instanceof Error ? error.message : String(error)}${hint}`, {
      cause: error,
    });
  }
}

const isProvider = (value: unknown): value is DescribedProvider =>
  typeof value === 'object' && value !== null && typeof (value as DescribedProvider).openapi === 'function';

function notProvider(file: string, name: string, value: unknown): Error {
  const handler =
    typeof value === 'object' && value !== null && typeof (value as { fetch?: unknown }).fetch === 'function';
  return new UsageError(
    handler
      ? `${file}: export '${name}' has no openapi(): a handler rather than an ActionProvider (or one from a globus-action-provider older than this CLI)`
      : `${file}: export '${name}' is not an ActionProvider or a function returning one`,
  );
}

/**
 * The provider `module` exports as `name`; without a name, its default export, else its only
 * export that is a provider. A function is called without arguments (and awaited): a factory.
 */
export async function pickProvider(
  module: Record<string, unknown>,
  file: string,
  name: string | undefined,
): Promise<DescribedProvider> {
  const names = Object.keys(module);
  let chosen = name;
  if (chosen === undefined) {
    const providers = names.filter((key) => isProvider(module[key]));
    chosen = 'default' in module ? 'default' : providers.length === 1 ? providers[0] : undefined;
    if (chosen === undefined) {
      const listed = names.length === 0 ? 'nothing' : names.join(', ');
      throw new UsageError(
        `${file}: no default export and no single provider among its exports (${listed}): pass --export`,
      );
    }
  } else if (!Object.hasOwn(module, chosen)) {
    throw new UsageError(`${file}: no export named '${chosen}' (it exports ${names.join(', ') || 'nothing'})`);
  }
  let value = module[chosen];
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new Error(`${file}: ${chosen}() failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
  if (!isProvider(value)) throw notProvider(file, chosen, value);
  return value;
}
