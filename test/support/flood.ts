/**
 * @module test/support/flood: a flood of distinct bogus bearer tokens against a provider using
 * `globusAuth`, with the fake Globus on a real port, counting what reached Globus (calls, the
 * most at once) and whether a real caller's cached entry survived. Used by
 * test/globus-flood.test.ts, and runnable on its own for the large figures:
 *
 *   npx tsx test/support/flood.ts [tokens=200000] [concurrency=200] [latency ms=20] [http|injected]
 *
 * The provider's clock stands still, so that cached entries outlive a long flood by age and only
 * eviction can remove them.
 *
 * It imports only the public entry points, so the same file measures an older tree too.
 */
import { pathToFileURL } from 'node:url';
import { createActionProvider, type GlobusAuthOptions, globusAuth, silentLogger } from '../../src/index.ts';
import { fakeGlobus } from '../../src/testing/index.ts';
import { listen } from '../../src/testing/node.ts';

const SCOPE = 'https://auth.globus.org/scopes/d3a66776-759f-4316-ba55-21725fe37323/action_all';
const REAL_USER = '00000000-0000-4000-8000-000000000001';

export interface FloodOptions {
  /** Distinct bogus tokens sent, one request each. */
  tokens: number;
  /** Requests in flight at once (the attacker's connections). */
  concurrency: number;
  /** Milliseconds the fake Globus takes to answer each call. */
  latency?: number;
  /** Merged over the fake's options (e.g. `cacheSize`, `maxConcurrentIntrospections`). */
  auth?: Partial<GlobusAuthOptions>;
  /** The fake on a real port (default), or as an injected fetch (no sockets: for large floods in tests). */
  transport?: 'http' | 'injected';
}

export interface FloodResult {
  /** Introspection calls Globus received during the flood. */
  introspections: number;
  /** The most introspections outstanding at once. */
  peak: number;
  /** How many flood requests got each HTTP status. */
  statuses: Record<number, number>;
  /** Introspections the real caller's next request caused: 0 when its cached entry survived. */
  realCallerIntrospections: number;
  /** The real caller's status after the flood. */
  realCallerStatus: number;
  ms: number;
}

/** `inner`, tracking how many introspections are outstanding (an older fake does not count them). */
function countingFetch(inner: typeof fetch): typeof fetch & { now: number; peak: number } {
  const counted = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const introspection = String(input instanceof Request ? input.url : input).endsWith('/introspect');
    if (introspection) counted.peak = Math.max(counted.peak, ++counted.now);
    try {
      return await inner(input, init);
    } finally {
      if (introspection) counted.now--;
    }
  }) as typeof fetch & { now: number; peak: number };
  counted.now = 0;
  counted.peak = 0;
  return counted;
}

/** Runs one flood and closes what it started. */
export async function flood(options: FloodOptions): Promise<FloodResult> {
  const globus = fakeGlobus(options.latency === undefined ? {} : { latency: options.latency });
  const server = options.transport === 'injected' ? undefined : await listen(globus.app);
  const counting = countingFetch(server === undefined ? globus.fetch : (input, init) => fetch(input, init));
  const now = Date.now();
  try {
    const provider = createActionProvider({
      description: { title: 'Flood target', globus_auth_scope: SCOPE, admin_contact: 'admin@example.org' },
      auth: globusAuth({ ...globus.authOptions(server?.url), fetch: counting, clock: () => now, ...options.auth }),
      logger: silentLogger,
      run: () => ({ status: 'SUCCEEDED', details: {} }),
    });
    const send = async (token: string) =>
      (
        await provider.fetch(
          new Request('http://provider.test/actions', { headers: { authorization: `Bearer ${token}` } }),
        )
      ).status;
    const real = globus.issueToken({ user: REAL_USER, scopes: [SCOPE] });
    if ((await send(real)) !== 200) throw new Error('the real caller was refused before the flood');
    globus.resetCalls();
    const statuses: Record<number, number> = {};
    let sent = 0;
    const started = performance.now();
    const worker = async () => {
      while (sent < options.tokens) {
        sent++;
        // Each request arrives as its own event, as from the network: a refusal needs no I/O, and
        // a loop of them on microtasks alone would starve the sockets of the calls to Globus (the
        // injected fake has no sockets to starve).
        if (server !== undefined) await new Promise((resolve) => setImmediate(resolve));
        const status = await send(`bogus-${crypto.randomUUID()}`);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.tokens) }, worker));
    const ms = performance.now() - started;
    const introspections = globus.calls.introspect;
    const realCallerStatus = await send(real);
    return {
      introspections,
      peak: counting.peak,
      statuses,
      realCallerIntrospections: globus.calls.introspect - introspections,
      realCallerStatus,
      ms: Math.round(ms),
    };
  } finally {
    await server?.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [tokens = 200_000, concurrency = 200, latency = 20] = process.argv.slice(2, 5).map(Number);
  const transport = process.argv[5] === 'injected' ? 'injected' : 'http';
  const result = await flood({ tokens, concurrency, latency, transport });
  console.log(JSON.stringify({ tokens, concurrency, latency, transport, ...result }));
}
