/**
 * @module test/conformance/hosts: start the echo example on each host the toolkit supports,
 * each the way a user would: a real runtime binary from npm, listening on a real port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK } from 'jose';
import { ISSUER, publicKey, SCOPE } from '../helpers.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = (name: string) => `${ROOT}node_modules/.bin/${name}`;

export interface Host {
  url: string;
  stop(): Promise<void>;
}

/** Environment (or Worker bindings) that make the examples trust the test keys. */
export async function exampleEnv(): Promise<Record<string, string>> {
  const jwk = await exportJWK(publicKey);
  return {
    JWT_JWKS: JSON.stringify({ keys: [{ ...jwk, alg: 'ES256' }] }),
    JWT_ISSUER: ISSUER,
    PROVIDER_SCOPE: SCOPE,
    PORT: '0',
  };
}

/** Spawn a command and wait for the example's "listening on <url>/" line. */
export async function spawnHost(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Host & { child: ChildProcess; startedIn: number }> {
  const started = performance.now();
  // Each host keeps its actions in its own embedded database unless told otherwise; a directory
  // made here goes when the process does.
  const dataDir = env['DATA_DIR'] === undefined ? mkdtempSync(join(tmpdir(), 'gap-host-')) : undefined;
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...(await exampleEnv()), ...(dataDir ? { DATA_DIR: dataDir } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (dataDir) child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start in time:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+?)\/?(\s|$)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    startedIn: performance.now() - started,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Serve a Node request listener (an Express or Hono host app) on a free port. */
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

/** A Worker script (a path from the repository root) bundled with esbuild, as `wrangler deploy` would. */
export async function bundleWorker(script: string): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const bundle = await build({
    entryPoints: [`${ROOT}${script}`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    minify: true,
    write: false,
  });
  return bundle.outputFiles[0]?.contents ?? new Uint8Array();
}

/** A Worker script, bundled, served by workerd through miniflare. */
export async function startWorker(
  script: string,
  bindings: Record<string, string>,
  d1Databases: string[] = [],
): Promise<Host> {
  const { Miniflare } = await import('miniflare');
  const mf = new Miniflare({
    modules: true,
    script: new TextDecoder().decode(await bundleWorker(script)),
    compatibilityDate: '2026-04-01',
    bindings,
    d1Databases,
    port: 0,
    host: '127.0.0.1',
  });
  const url = await mf.ready;
  return { url: url.href.replace(/\/$/, ''), stop: () => mf.dispose() };
}
