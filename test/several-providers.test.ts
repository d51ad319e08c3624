/**
 * @module test/several-providers: three providers in one process behind one client
 * (examples/several-providers.ts). Served by examples/several.ts in its own process, the
 * conformance suite passes against each under its prefix, with its own scope. In process, with
 * `globusAuth` against the fake Globus: one introspection per token whichever provider it calls,
 * each provider accepting only its own scope, and the three keeping their actions in one SQLite
 * file under their own table prefixes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS, severalProviders } from '../examples/several-providers.ts';
import { globusAuth } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { actionClient } from '../src/testing/index.ts';
import { listen } from '../src/testing/node.ts';
import { conformanceSuite } from './conformance/suite.ts';
import { startGlobus } from './support/globus.ts';
import { USERS } from './support/identities.ts';
import { type ProviderProcess, spawnHost } from './support/processes.ts';

const SCOPES = PROVIDERS.map(
  (_, i) => `https://auth.globus.org/scopes/11111111-2222-4333-8444-00000000000${i + 1}/action_all`,
);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-several-'));
  dirs.push(dir);
  return dir;
};

describe('examples/several.ts: three providers on one port', () => {
  let host: ProviderProcess;
  beforeAll(async () => {
    host = await spawnHost(process.execPath, ['--import', 'tsx', 'examples/several.ts'], {
      DATA_DIR: tempDir(),
      ...Object.fromEntries(PROVIDERS.map((p, i) => [p.scopeVariable, SCOPES[i] as string])),
    });
  }, 60_000);
  afterAll(() => host?.stop());
  for (const [i, p] of PROVIDERS.entries()) {
    describe(`${p.title} under ${p.prefix}`, () => {
      conformanceSuite(() => `${host.url.replace(/\/$/, '')}${p.prefix}`, {
        scope: SCOPES[i] as string,
        title: p.title,
      });
    });
  }
});

describe('one globusAuth, one database, three providers (fake Globus)', () => {
  it('introspects a token once whichever provider it calls, each accepting only its own scope', async () => {
    const { globus, url } = await startGlobus();
    const auth = globusAuth(globus.authOptions(url));
    const file = join(tempDir(), 'several.db');
    const { host, providers } = await severalProviders({
      auth,
      scopes: SCOPES,
      store: (tablePrefix) => openSqliteStore(file, { tablePrefix }),
    });
    const server = await listen(host);
    try {
      const both = globus.issueToken({ user: USERS.creator, scopes: [SCOPES[0] as string, SCOPES[1] as string] });
      const before = globus.calls.introspect;
      const echo = actionClient(`${server.url}${PROVIDERS[0].prefix}`, { token: both });
      const archive = actionClient(`${server.url}${PROVIDERS[1].prefix}`, { token: both });
      const compute = actionClient(`${server.url}${PROVIDERS[2].prefix}`, { token: both });
      const a = await echo.run({ body: { input_string: 'to echo' } });
      const b = await archive.run({ body: { input_string: 'to archive' } });
      expect([a.status, b.status]).toEqual([202, 202]);
      expect((await echo.status(a.body.action_id)).status).toBe(200);
      expect(globus.calls.introspect - before).toBe(1); // one introspection for both providers
      // Not this provider's scope: 401, and an action of another provider does not exist here.
      expect((await compute.run({ body: { input_string: 'x' } })).status).toBe(401);
      expect((await archive.status(a.body.action_id)).status).toBe(404);
      // One database file, a table prefix each.
      const db = new Database(file, { readonly: true });
      try {
        const count = (prefix: string) =>
          (db.prepare(`SELECT COUNT(*) AS n FROM ${prefix}actions`).get() as { n: number }).n;
        expect(PROVIDERS.map((p) => count(p.table))).toEqual([1, 1, 0]);
      } finally {
        db.close();
      }
    } finally {
      await server.close();
      for (const p of providers) await p.close();
    }
  });
});
