/**
 * @module test/container: examples/container/Dockerfile, built without Docker (none runs here):
 * its stages' COPY and RUN steps carried out in order in a temporary directory
 * (test/support/dockerfile.ts: npm ci, the compile, the prune to production dependencies, the
 * copies into the runtime stage), then the runtime stage's CMD started from its directory, with
 * its ENV and only its own node_modules, as an unprivileged user: it answers introspection and
 * its HEALTHCHECK, and runs actions with the SQLite store on its volume (dev mode) and with
 * PostgreSQL (DATABASE_URL, JWT auth).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { actionClient } from '../src/testing/index.ts';
import { hostPath, type Stage, stageDockerfile } from './support/dockerfile.ts';
import { exampleEnv, mint, USERS } from './support/identities.ts';
import { freePort } from './support/ports.ts';
import { ROOT, type Spawned, spawnProcess } from './support/processes.ts';

/** The official node images' unprivileged user, `node`, is uid and gid 1000. */
const NODE_USER = 1000;
const asRoot = process.getuid?.() === 0;

const work = mkdtempSync(join(tmpdir(), 'gap-container-'));
chmodSync(work, 0o755); // mkdtemp's 0700 would shut the unprivileged user out of the image
const children: Spawned[] = [];
afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  rmSync(work, { recursive: true, force: true });
});

let build: Stage;
let image: Stage;
beforeAll(async () => {
  const stages = await stageDockerfile(join(ROOT, 'examples/container/Dockerfile'), {
    context: ROOT,
    into: work,
    ids: { node: NODE_USER },
  });
  [build, image] = stages as [Stage, Stage];
}, 240_000);

/** The image's ENV, its paths made this machine's, over `env`; PATH reaches only Node. */
function imageEnv(env: Record<string, string>): Record<string, string> {
  const own = Object.fromEntries(
    Object.entries(image.env).map(([name, value]) => [name, value.startsWith('/') ? hostPath(image, value) : value]),
  );
  return { PATH: dirname(process.execPath), ...own, ...env };
}

/** `command` (the image's `node` being this one), as the image's USER would run it, from its WORKDIR. */
function runInImage(command: string[], env: Record<string, string>, ready?: RegExp): Promise<Spawned> {
  const [program, ...args] = command;
  return spawnProcess(program === 'node' ? process.execPath : (program ?? ''), args, {
    cwd: hostPath(image, image.workdir),
    env: imageEnv(env),
    inheritEnv: false,
    // Only root may become another user; anyone else is an unprivileged user already.
    ...(asRoot ? { uid: NODE_USER, gid: NODE_USER } : {}),
    ...(ready ? { ready, timeout: 20_000 } : {}),
  });
}

/** The image's CMD on a free port, once it says where it listens. */
async function startImage(env: Record<string, string> = {}): Promise<{ app: Spawned; url: string; port: number }> {
  const port = await freePort();
  const app = await runInImage(image.cmd ?? [], { ...env, PORT: String(port) }, /listening on (http:\/\/\S+?)\/?\s/);
  children.push(app);
  // HOST=0.0.0.0 (every interface, as a container needs); the tests reach it on loopback.
  return { app, url: `http://127.0.0.1:${port}`, port };
}

const packages = (stage: Stage) => {
  const modules = hostPath(stage, 'node_modules');
  return readdirSync(modules).flatMap((entry) =>
    entry.startsWith('@') ? readdirSync(join(modules, entry)).map((scoped) => `${entry}/${scoped}`) : [entry],
  );
};

describe('examples/container/Dockerfile, its steps run without Docker', () => {
  it('builds with dev dependencies and runs with production ones only, compiled, as the unprivileged user', () => {
    expect([build.image, image.image]).toEqual([expect.stringMatching(/^node:\d+-slim$/), build.image]);
    // The stager runs the image's node as the tests' own: the same major version.
    expect(image.image).toBe(`node:${process.versions.node.split('.')[0]}-slim`);
    expect(build.name).toBe('build');
    expect(image.user).toBe('node');
    expect(image.cmd).toEqual(['node', 'dist/examples/node.js']);
    expect(image.env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080', DATA_DIR: '/data' });
    expect(image.volumes).toEqual(['/data']);
    expect(image.expose).toEqual(['8080']);

    const shipped = packages(image);
    for (const needed of ['hono', '@hono/node-server', 'postgres', 'better-sqlite3', 'jose', 'valibot'])
      expect(shipped).toContain(needed);
    for (const dev of ['typescript', 'tsx', 'vitest', 'wrangler', 'miniflare', 'esbuild', '@biomejs/biome', 'bun'])
      expect(shipped).not.toContain(dev);
    expect(existsSync(hostPath(image, 'dist/examples/node.js'))).toBe(true);
    expect(existsSync(hostPath(image, 'src'))).toBe(false); // JavaScript only, no TypeScript sources
    expect(image.owners).toEqual({ '/data': 'node:node' });
    if (asRoot) expect(statSync(hostPath(image, '/data')).uid).toBe(NODE_USER);
  });

  it('serves from its CMD in dev mode with the SQLite store on its volume: introspection, HEALTHCHECK, a run with the printed token', async () => {
    const { app, url, port } = await startImage();
    expect(app.output()).toMatch(/DEV MODE/);
    expect(app.output()).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+/);
    const introspection = await actionClient(url).introspect();
    expect(introspection.status).toBe(200);
    expect(introspection.body).toMatchObject({ title: 'Echo' });

    const health = await runInImage(image.healthcheck?.cmd ?? [], { PORT: String(port) });
    expect((await health.exited).code).toBe(0);

    const token = /TOKEN=([\w.-]+)/.exec(app.output())?.[1] ?? '';
    const client = actionClient(url, { token });
    const run = await client.run({ request_id: 'dev-1', body: { input_string: 'hello' } });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ status: 'SUCCEEDED', details: { you_said: 'hello' } });
    expect((await client.status(run.body.action_id as string)).status).toBe(200);
    // The store and the dev key live on the volume, written by the unprivileged user.
    const files = readdirSync(hostPath(image, '/data'));
    expect(files).toEqual(expect.arrayContaining(['echo-actions.db', 'dev-key.json']));
    if (asRoot) expect(statSync(hostPath(image, '/data/echo-actions.db')).uid).toBe(NODE_USER);

    await app.stop();
    const down = await runInImage(image.healthcheck?.cmd ?? [], { PORT: String(port) });
    expect((await down.exited).code).toBe(1); // the HEALTHCHECK fails once nothing answers
  });

  it.each(['/tools/echo', 'tools/echo', 'tools/echo/'])(
    'answers its HEALTHCHECK under PROVIDER_PREFIX=%s, written as serve() takes a prefix',
    async (prefix) => {
      const { url, port } = await startImage({ PROVIDER_PREFIX: prefix, STORE: 'memory' });
      expect((await actionClient(`${url}/tools/echo`).introspect()).status).toBe(200);
      const health = await runInImage(image.healthcheck?.cmd ?? [], { PORT: String(port), PROVIDER_PREFIX: prefix });
      expect((await health.exited).code).toBe(0);
    },
  );

  it('keeps actions in PostgreSQL with DATABASE_URL, callers authenticated by JWT_JWKS', async () => {
    const databaseUrl = inject('databaseUrl');
    const { app, url } = await startImage({ ...(await exampleEnv()), DATABASE_URL: databaseUrl });
    expect(app.output()).not.toMatch(/DEV MODE/);
    const client = actionClient(url, { token: await mint(USERS.creator) });
    const run = await client.run({ request_id: crypto.randomUUID(), body: { input_string: 'to postgres' } });
    expect(run.status).toBe(202);
    expect((await actionClient(url, { token: 'not-a-jwt' }).status(run.body.action_id as string)).status).toBe(401);
    const sql = postgres(databaseUrl, { max: 1 });
    try {
      const stored = await sql`SELECT status FROM gap_actions WHERE action_id = ${run.body.action_id as string}`;
      expect(stored).toEqual([{ status: 'SUCCEEDED' }]);
    } finally {
      await sql.end();
    }
  });
});
