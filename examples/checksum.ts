/**
 * @module examples/checksum: pattern (a), background work with progress. Checksums a file under
 * CHECKSUM_ROOT (default the current directory) a chunk at a time in the `work` callback; after
 * each chunk a checkpoint (bytes done, a running digest) is stored, so a client polling status
 * sees the progress, and a restart, a crash or a deploy resumes from the last chunk instead of
 * the start. Run it with `npx tsx examples/checksum.ts` and ask for `{"path": "README.md"}`.
 *
 * The checksum is a chain of SHA-256 over the file's chunks (`h = sha256(h || sha256(chunk))`),
 * which, unlike a plain SHA-256, can be resumed from a digest kept in `state`.
 */
import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ActionError, createActionProvider } from 'globus-action-provider';
import { serve } from 'globus-action-provider/node';
import * as v from 'valibot';
import { authFromEnv, banner } from './dev-auth.ts';
import { storeFromEnv } from './store.ts';

const env = process.env;
const root = resolve(env['CHECKSUM_ROOT'] ?? '.');
const chunkBytes = Number(env['CHUNK_BYTES'] ?? 8 * 1024 * 1024);

const hex = (bytes: ArrayBuffer) => Buffer.from(bytes).toString('hex');
const sha256 = (data: Uint8Array<ArrayBuffer>) => crypto.subtle.digest('SHA-256', data);

/** A path the caller names, kept inside `root`: never let a request read the whole disk. */
function inside(path: string): string {
  const file = resolve(root, path);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new ActionError('RequestValidationError', `path must name a file under the provider's root`);
  }
  return file;
}

interface Checkpoint {
  file: string;
  size: number;
  mtime: number;
  /** Bytes hashed so far, and the chain's digest after them. */
  done: number;
  digest: string;
}

const mode = await authFromEnv(env);
const store = await storeFromEnv(env, 'checksum');
const provider = createActionProvider({
  description: {
    title: 'Checksum',
    subtitle: 'A resumable SHA-256 chain of a file, in the background',
    globus_auth_scope: mode.scope,
    admin_contact: 'admin@example.org',
  },
  input: v.object({ path: v.pipe(v.string(), v.minLength(1)) }),
  auth: mode.auth,
  ...(store ? { store } : {}),
  // Quick checks while the client waits; the long part is the work's.
  run: async ({ request }) => {
    const file = inside(request.body.path);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new ActionError('RequestValidationError', `No file ${request.body.path}`);
    const start: Checkpoint = { file, size: info.size, mtime: info.mtimeMs, done: 0, digest: '' };
    return { status: 'ACTIVE', display_status: 'Queued', details: { size: info.size, done: 0 }, state: { ...start } };
  },
  work: async ({ action, signal, progress }) => {
    const at = action.state as unknown as Checkpoint;
    const info = await stat(at.file);
    if (info.size !== at.size || info.mtimeMs !== at.mtime) {
      // Not worth retrying: fail at once with a code of our choice.
      throw new ActionError('ActionConflict', 'The file changed while it was being checksummed');
    }
    const handle = await open(at.file);
    let { done, digest } = at;
    try {
      const buffer = new Uint8Array(chunkBytes);
      while (done < at.size) {
        signal.throwIfAborted(); // cancelled, deadline, or shutting down (then resumed elsewhere)
        const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, at.size - done), done);
        const chunk = new Uint8Array(await sha256(buffer.subarray(0, bytesRead)));
        const link = new Uint8Array(digest.length / 2 + chunk.length);
        link.set(Buffer.from(digest, 'hex'));
        link.set(chunk, digest.length / 2);
        digest = hex(await sha256(link));
        done += bytesRead;
        const percent = at.size === 0 ? 100 : Math.floor((done / at.size) * 100);
        await progress({
          display_status: `${percent}% checksummed`,
          details: { size: at.size, done },
          state: { ...at, done, digest },
        });
      }
    } finally {
      await handle.close();
    }
    return {
      status: 'SUCCEEDED',
      display_status: 'Checksummed',
      details: { size: at.size, chunk_bytes: chunkBytes, algorithm: 'sha256-chain', checksum: digest },
    };
  },
});

const { url } = await serve(provider, { port: Number(env['PORT'] ?? 8080), prefix: env['PROVIDER_PREFIX'] ?? '' });
console.log(banner(url, mode, 'Checksum provider', { path: 'README.md' }));
