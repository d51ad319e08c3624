/**
 * @module dev/files: where dev mode keeps its key and the provider's scope on disk (node:fs,
 * which Node, Bun and Deno have). Loaded only when a directory is given, so the rest of the dev
 * entry needs no file system.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DevKeyError } from './errors.ts';
import { isScope } from './mint.ts';

/** The key pair and identity; private (0600). */
export const KEY_FILE = 'dev-key.json';
/** The scope the last provider started with, so `globus-action-provider token` needs no --scope. */
export const SCOPE_FILE = 'dev-scope.json';

export const keyPath = (dir: string): string => join(dir, KEY_FILE);
const scopePath = (dir: string): string => join(dir, SCOPE_FILE);

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** Far more than either file holds (a key is about 400 bytes): what is larger is not ours. */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * Never through a symbolic link at the name (one planted in a shared directory could point at a
 * key someone else knows), and never blocking on a FIFO, which would hang the start; both flags
 * are 0 where the platform has none (Windows).
 */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Why others could have chosen or could read the key in a file, or undefined when they could not:
 * it must be the user's own (or root's) and shut to group and others, as ssh asks of a private
 * key. Not checked where there are no Unix owners (Windows).
 */
function unsafeKey(stats: Stats, file: string): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  if (stats.uid !== uid && stats.uid !== 0)
    return `${file} belongs to user ${stats.uid}, not to you (${uid}): someone else may have put it there`;
  const mode = stats.mode & 0o777;
  if ((mode & 0o077) !== 0)
    return `other users can read or change ${file} (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 ${file}`;
  return undefined;
}

/**
 * A file's text, or undefined when there is none. It is read from the handle it was checked on
 * (no window in which the name can be swapped), at most MAX_FILE_BYTES of it; a link, a FIFO, a
 * device, a directory, a file too large (or, when `secret`, one others could have written or can
 * read) is a DevKeyError.
 */
async function readIfThere(file: string, { secret }: { secret: boolean }): Promise<string | undefined> {
  const refuse = (code: 'ERR_DEV_KEY_UNREADABLE' | 'ERR_DEV_KEY_UNSAFE' | 'ERR_DEV_KEY_INVALID', why: string) =>
    new DevKeyError(code, file, `dev mode: ${why}`);
  let handle: FileHandle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return undefined;
    // ELOOP: O_NOFOLLOW met a link (EMLINK on FreeBSD).
    if (code === 'ELOOP' || code === 'EMLINK')
      throw refuse('ERR_DEV_KEY_UNSAFE', `${file} is a symbolic link; dev mode reads only a file of its own there`);
    throw new DevKeyError('ERR_DEV_KEY_UNREADABLE', file, `dev mode: cannot read ${file} (${code})`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse('ERR_DEV_KEY_UNREADABLE', `cannot read ${file} (not a regular file)`);
    const unsafe = secret ? unsafeKey(stats, file) : undefined;
    if (unsafe !== undefined) throw refuse('ERR_DEV_KEY_UNSAFE', unsafe);
    const bytes = new Uint8Array(MAX_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === bytes.length)
        throw refuse(
          'ERR_DEV_KEY_INVALID',
          `${file} is larger than a dev key can be (over ${MAX_FILE_BYTES / 1024} kB)`,
        );
    }
    return new TextDecoder().decode(bytes.subarray(0, length));
  } catch (error) {
    if (error instanceof DevKeyError) throw error;
    throw new DevKeyError('ERR_DEV_KEY_UNREADABLE', file, `dev mode: cannot read ${file} (${codeOf(error)})`, {
      cause: error,
    });
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The key file's text, or undefined when the directory has none yet. */
export function readKeyFile(dir: string): Promise<string | undefined> {
  return readIfThere(keyPath(dir), { secret: true });
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

/**
 * The recorded scope, or undefined when none is recorded or the record is unusable (it is only a
 * default, and grants nothing by itself: a token minted for a scope the provider does not have is
 * refused). Not a scope (control characters, say) is unusable.
 */
export async function readScopeFile(dir: string): Promise<string | undefined> {
  const text = await readIfThere(scopePath(dir), { secret: false }).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    const scope = (value as { scope?: unknown } | null)?.scope;
    return isScope(scope) ? scope : undefined;
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
