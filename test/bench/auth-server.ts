/**
 * @module test/bench/auth-server: the server side of test/bench/auth.ts. In one process: a fake
 * Globus (Auth and Groups) on a real port, and the echo provider twice, once with globusAuth
 * against that fake and once with jwtAuth, each on its own port, each with one action. It also
 * measures cold-token latency (a token never seen: introspection, or JWT verification), issues
 * 500 more fresh tokens for a burst of new callers, and prints one JSON line.
 */
import { serve } from '../../adapters/node.ts';
import { ECHO_SCOPE, echoProvider } from '../../examples/echo.ts';
import { devAuth } from '../../src/dev/index.ts';
import { type ActionProvider, globusAuth, silentLogger } from '../../src/index.ts';
import { fakeGlobus } from '../../src/testing/index.ts';
import { listen } from '../../src/testing/node.ts';

const USER = '7d1f1c3e-0000-4000-8000-000000000001';
const globus = fakeGlobus({ users: [{ id: USER }] });
const fake = await listen(globus.app);
const dev = await devAuth();
const providers = {
  globus: echoProvider({ serverTiming: false, auth: globusAuth(globus.authOptions(fake.url)), logger: silentLogger }),
  jwt: echoProvider({ serverTiming: false, auth: dev.auth, logger: silentLogger }),
};
const tokens = {
  globus: globus.issueToken({ user: USER, scopes: [ECHO_SCOPE] }),
  jwt: await dev.mint({ identity: USER, scope: ECHO_SCOPE }),
};

async function call(provider: ActionProvider, path: string, token: string, body?: unknown): Promise<Response> {
  return provider.fetch(
    new Request(`http://bench${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

const actions: Record<string, string> = {};
for (const name of ['globus', 'jwt'] as const) {
  const reply = await call(providers[name], '/run', tokens[name], {
    request_id: 'bench',
    body: { input_string: 'hello' },
  });
  actions[name] = ((await reply.json()) as { action_id: string }).action_id;
}

/** Latency of a status call with a token this provider has never seen, sequentially, in ms. */
async function cold(name: 'globus' | 'jwt', count: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const token =
      name === 'globus'
        ? globus.issueToken({ user: USER, scopes: [ECHO_SCOPE] })
        : await dev.mint({ identity: USER, scope: ECHO_SCOPE });
    const started = performance.now();
    const reply = await call(providers[name], `/${actions[name]}/status`, token);
    times.push(performance.now() - started);
    if (reply.status !== 200) throw new Error(`cold ${name} status answered ${reply.status}`);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count / 2)] ?? NaN, p99: times[Math.floor(count * 0.99)] ?? NaN };
}
const coldLatency = { globus: await cold('globus', 300), jwt: await cold('jwt', 300) };
const introspections = globus.calls.introspect;

// Tokens for the burst of new callers (auth.ts sends each once, 32 at a time).
const FRESH = 500;
const fresh = {
  globus: Array.from({ length: FRESH }, () => globus.issueToken({ user: USER, scopes: [ECHO_SCOPE] })),
  jwt: await Promise.all(Array.from({ length: FRESH }, () => dev.mint({ identity: USER, scope: ECHO_SCOPE }))),
};

const globusServer = await serve(providers.globus, { port: 0, handleSignals: false });
const jwtServer = await serve(providers.jwt, { port: 0, handleSignals: false });
console.log(
  JSON.stringify({
    globus: { url: `${globusServer.url}/${actions['globus']}/status`, token: tokens.globus },
    jwt: { url: `${jwtServer.url}/${actions['jwt']}/status`, token: tokens.jwt },
    coldLatency,
    introspections,
    fresh,
  }),
);
process.on('SIGUSR2', () => console.log(JSON.stringify({ introspections: globus.calls.introspect })));
