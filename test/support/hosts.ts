/**
 * @module test/support/hosts: a provider served by a host other than our own adapters: a Node
 * request listener (an Express or Hono app) on a free port, or a Worker bundled as
 * `wrangler deploy` would and served by workerd through miniflare.
 */
import type { AddressInfo } from 'node:net';
import type { D1Like } from '../../src/store/d1.ts';
import { applyD1Migrations } from './d1-migrations.ts';
import { ROOT } from './processes.ts';

export interface Host {
  url: string;
  stop(): Promise<void>;
}

/** Serve a Node request listener (an Express or Hono host app) on a free port; `path` is appended to the URL. */
export async function listenNode(
  listener: Parameters<typeof import('node:http').createServer>[1],
  path = '',
): Promise<Host> {
  const { createServer } = await import('node:http');
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A Worker script (a path from the repository root) bundled with esbuild, as `wrangler deploy`
 * would. `node` leaves `node:` modules to workerd (for a Worker with a Node.js compatibility flag).
 */
export async function bundleWorker(script: string, node = false): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const bundle = await build({
    entryPoints: [`${ROOT}${script}`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    minify: true,
    write: false,
    ...(node && { external: ['node:*'] }),
  });
  return bundle.outputFiles[0]?.contents ?? new Uint8Array();
}

export interface WorkerHost extends Host {
  miniflare: import('miniflare').Miniflare;
}

export interface StartWorkerOptions {
  /**
   * Apply the migrations of this directory (from the repository root) to each D1 database
   * before the Worker serves, as `wrangler d1 migrations apply --local` would: for a Worker
   * that opens its store with `migrate: false`.
   */
  d1Migrations?: string;
  /** Durable Object bindings (examples/worker.ts runs its background work in `ACTION_WORK`). */
  durableObjects?: Record<string, { className: string; useSQLite?: boolean }>;
  /** Compatibility flags (`nodejs_als`, say); with any, the bundle leaves `node:` modules to workerd. */
  compatibilityFlags?: string[];
}

/** A Worker script, bundled, served by workerd through miniflare. */
export async function startWorker(
  script: string,
  bindings: Record<string, string>,
  d1Databases: string[] = [],
  options: StartWorkerOptions = {},
): Promise<WorkerHost> {
  const { Miniflare } = await import('miniflare');
  const miniflare = new Miniflare({
    modules: true,
    script: new TextDecoder().decode(await bundleWorker(script, options.compatibilityFlags !== undefined)),
    compatibilityDate: '2026-04-01',
    ...(options.compatibilityFlags === undefined ? {} : { compatibilityFlags: options.compatibilityFlags }),
    bindings,
    d1Databases,
    ...(options.durableObjects === undefined ? {} : { durableObjects: options.durableObjects }),
    port: 0,
    host: '127.0.0.1',
  });
  const url = await miniflare.ready;
  const { d1Migrations } = options;
  if (d1Migrations !== undefined) {
    // Before any request: the Worker builds its provider (and opens its store) on the first one.
    for (const name of d1Databases)
      await applyD1Migrations((await miniflare.getD1Database(name)) as unknown as D1Like, d1Migrations);
  }
  return { url: url.href.replace(/\/$/, ''), miniflare, stop: () => miniflare.dispose() };
}
