/**
 * @module dev/files: where dev mode keeps its key and the provider's scope on disk (node:fs,
 * which Node, Bun and Deno have). Loaded only when a directory is given, so the rest of the dev
 * entry needs no file system.
 */
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DevKeyError } from './errors.ts';

/** The key pair and identity; private (0600). */
export const KEY_FILE = 'dev-key.json';
/** The scope the last provider started with, so `globus-action-provider token` needs no --scope. */
export const SCOPE_FILE = 'dev-scope.json';

export const keyPath = (dir: string): string => join(dir, KEY_FILE);
const scopePath = (dir: string): string => join(dir, SCOPE_FILE);

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** A file's text, or undefined when there is none; anything else that stops the read is a DevKeyError. */
async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw new DevKeyError('ERR_DEV_KEY_UNREADABLE', file, `dev mode: cannot read ${file} (${codeOf(error)})`, {
      cause: error,
    });
  }
}

/** The key file's text, or undefined when the directory has none yet. */
export function readKeyFile(dir: string): Promise<string | undefined> {
  return readIfThere(keyPath(dir));
}

/** A unique temporary name beside `dir`'s files, so a rename or link never crosses file systems. */
const temporary = (dir: string, name: string): string => join(dir, `.${name}.${crypto.randomUUID()}.tmp`);

/**
 * Store `text` as the key unless a key is there already, and answer the text now stored. The
 * file appears whole (written aside, then hard-linked into place, which fails if the name is
 * taken), so two processes starting at once agree on one key and neither reads half a file.
 */
export async function createKeyFile(dir: string, text: string): Promise<string> {
  const file = keyPath(dir);
  const unwritable = (error: unknown) =>
    new DevKeyError('ERR_DEV_KEY_UNWRITABLE', file, `dev mode: cannot write ${file} (${codeOf(error)})`, {
      cause: error,
    });
  const aside = temporary(dir, KEY_FILE);
  try {
    // The directory holds a private key (and, in the examples, the action store): the owner's only.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(aside, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw unwritable(error);
  }
  try {
    await link(aside, file);
    return text;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') {
      const stored = await readKeyFile(dir);
      if (stored !== undefined) return stored;
    }
    // A file system without hard links: an exclusive create is still safe from a second key,
    // at the cost of a moment in which the file is incomplete.
    try {
      await writeFile(file, text, { mode: 0o600, flag: 'wx' });
      return text;
    } catch (fallback) {
      if (codeOf(fallback) === 'EEXIST') return (await readKeyFile(dir)) ?? text;
      throw unwritable(fallback);
    }
  } finally {
    await unlink(aside).catch(() => {});
  }
}

/** The recorded scope, or undefined when none is recorded or the record is unusable (it is only a default). */
export async function readScopeFile(dir: string): Promise<string | undefined> {
  const text = await readIfThere(scopePath(dir)).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    const scope = (value as { scope?: unknown } | null)?.scope;
    return typeof scope === 'string' && scope !== '' ? scope : undefined;
  } catch {
    return undefined;
  }
}

/** Record `scope` (written aside, then renamed over the old record: never half a file). */
export async function writeScopeFile(dir: string, scope: string): Promise<void> {
  const aside = temporary(dir, SCOPE_FILE);
  try {
    await writeFile(aside, `${JSON.stringify({ scope })}\n`, { mode: 0o600 });
    await rename(aside, scopePath(dir));
  } catch (error) {
    await unlink(aside).catch(() => {});
    throw new DevKeyError(
      'ERR_DEV_KEY_UNWRITABLE',
      scopePath(dir),
      `dev mode: cannot write ${scopePath(dir)} (${codeOf(error)})`,
      { cause: error },
    );
  }
}
