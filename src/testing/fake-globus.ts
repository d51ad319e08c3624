/**
 * @module testing/fake-globus: a fake Globus Auth and Groups that speak the real wire format
 * (token introspection with HTTP Basic client auth, the dependent token grant, my_groups), for
 * testing providers without the network. Use it as an injected `fetch`, or as a real HTTP
 * server on a port.
 */
import { type Context, Hono } from 'hono';
import { GROUPS_SCOPE } from '../auth/globus.ts';

export interface FakeClient {
  id: string;
  secret: string;
}

export interface FakeUser {
  /** Identity id (a UUID). */
  id: string;
  /** Linked identity ids; with `id`, they form the token's `identity_set`. */
  linked?: string[];
  /** Ids of the groups this user belongs to. */
  groups?: string[];
  username?: string;
  name?: string;
  email?: string;
}

export interface FakeGlobusOptions {
  /** Clients allowed to introspect (the providers under test). Default: one random client. */
  clients?: FakeClient[];
  users?: FakeUser[];
  /** Milliseconds added before every answer. */
  latency?: number;
  /** Milliseconds since the epoch, for `exp`/`iat`; injectable. */
  clock?: () => number;
}

export interface IssueTokenOptions {
  /** The user's identity id (must be one of `users`, or is added on the fly). */
  user: string;
  /** Scopes the token grants. */
  scopes: string[];
  /** False for a token introspection reports as inactive. Default true. */
  active?: boolean;
  /** Lifetime in seconds. Default 3600. */
  expiresIn?: number;
  /** Scopes the dependent token grant answers with. Default: the Groups scope. */
  dependentScopes?: string[];
  /** Scopes the user has not consented to: the dependent grant answers 403 dependent_consent_required. */
  unconsented?: string[];
  /** The client the token was issued to (`client_id`). */
  clientId?: string;
  /** Lifetime of the dependent tokens the grant answers with, in seconds. Default 172,800 (48 h). */
  dependentExpiresIn?: number;
}

export type FakeEndpoint = 'introspect' | 'token' | 'groups';

export interface FakeFailure {
  /** Answer with this status (and `body`, default an error JSON). */
  status?: number;
  /** Answer with this raw body (e.g. not JSON). */
  body?: string;
  /** Wait this long first (ms). */
  delay?: number;
  /** Drop the connection without answering. */
  reset?: boolean;
  /** How many calls fail; default every call until `clearFailures()`. */
  times?: number;
}

export interface FakeGlobusCalls {
  introspect: number;
  token: number;
  groups: number;
}

export interface FakeGlobus {
  /** The first client; give its credentials to `globusAuth`. */
  readonly client: FakeClient;
  readonly clients: readonly FakeClient[];
  /** Calls received per endpoint (each attempt counts). */
  readonly calls: FakeGlobusCalls;
  /** A fetch that answers Globus Auth and Groups requests whatever the host. */
  readonly fetch: typeof fetch;
  /** The Hono app behind it (mount it, or serve it yourself). */
  readonly app: Hono;
  addUser(user: FakeUser): void;
  /** A new opaque access token. */
  issueToken(options: IssueTokenOptions): string;
  /** Make a token inactive. */
  revoke(token: string): void;
  fail(endpoint: FakeEndpoint, failure: FakeFailure): void;
  clearFailures(): void;
  resetCalls(): void;
  /** Serve on a real port of 127.0.0.1 (Node, Bun, Deno). Auth and Groups share the base URL. */
  listen(port?: number): Promise<{ url: string; close(): Promise<void> }>;
  /** `globusAuth` options pointing at `baseUrl` (or at the injected fetch when omitted). */
  authOptions(baseUrl?: string): {
    clientId: string;
    clientSecret: string;
    authUrl: string;
    groupsUrl: string;
    fetch?: typeof fetch;
  };
}

interface TokenRecord {
  user: string;
  scopes: string[];
  active: boolean;
  expiresAt: number;
  dependentScopes: string[];
  unconsented: string[];
  clientId: string;
  dependentExpiresIn: number;
}

const FAKE_BASE = 'https://globus.fake';

/** A dropped connection; thrown through the injected fetch as a real fetch rejects with a TypeError. */
class ConnectionReset extends TypeError {}
const randomToken = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''));
};

/** The resource server a scope belongs to, as Globus names them. */
function resourceServer(scope: string): string {
  if (scope === GROUPS_SCOPE || scope.startsWith('urn:globus:auth:scope:groups.api.globus.org:'))
    return 'groups.api.globus.org';
  const urn = /^urn:globus:auth:scope:([^:]+):/.exec(scope);
  if (urn?.[1] !== undefined) return urn[1];
  const url = /^https:\/\/auth\.globus\.org\/scopes\/([^/]+)\//.exec(scope);
  return url?.[1] ?? scope;
}

/**
 * Create a fake Globus.
 *
 * @example
 * ```ts
 * const globus = fakeGlobus({ users: [{ id: ALICE, groups: [LAB] }] })
 * const auth = globusAuth(globus.authOptions())
 * const token = globus.issueToken({ user: ALICE, scopes: [PROVIDER_SCOPE] })
 * ```
 */
export function fakeGlobus(options: FakeGlobusOptions = {}): FakeGlobus {
  const clients = options.clients ?? [{ id: crypto.randomUUID(), secret: randomToken() }];
  const firstClient = clients[0];
  if (firstClient === undefined) throw new TypeError('fakeGlobus: at least one client is needed');
  const clock = options.clock ?? Date.now;
  const users = new Map<string, FakeUser>();
  for (const user of options.users ?? []) users.set(user.id, user);
  const tokens = new Map<string, TokenRecord>();
  const failures = new Map<FakeEndpoint, FakeFailure & { left: number }>();
  const calls: FakeGlobusCalls = { introspect: 0, token: 0, groups: 0 };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const clientFrom = (c: Context): FakeClient | undefined => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return undefined;
    let decoded: string;
    try {
      decoded = atob(match[1]);
    } catch {
      return undefined;
    }
    const colon = decoded.indexOf(':');
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    return clients.find((client) => client.id === id && client.secret === secret);
  };

  /** Linked identities share one set, whichever of them the token belongs to (as in Globus). */
  const identitySet = (id: string): string[] => {
    for (const user of users.values()) {
      if (user.linked?.length && (user.id === id || user.linked.includes(id))) return [user.id, ...user.linked];
    }
    return [id];
  };

  const live = (token: string | undefined): TokenRecord | undefined => {
    const record = token === undefined ? undefined : tokens.get(token);
    return record?.active && record.expiresAt > clock() ? record : undefined;
  };

  /** Apply latency and injected failures; a Response short-circuits, `reset` drops the connection. */
  async function intercept(endpoint: FakeEndpoint, c: Context): Promise<Response | undefined> {
    calls[endpoint]++;
    if (options.latency) await sleep(options.latency);
    const failure = failures.get(endpoint);
    if (failure === undefined) return undefined;
    if (--failure.left <= 0) failures.delete(endpoint);
    if (failure.delay) await sleep(failure.delay);
    if (failure.reset) {
      const incoming = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming;
      if (incoming?.socket) {
        incoming.socket.destroy();
        return new Response(null, { status: 500 });
      }
      throw new ConnectionReset('fetch failed: connection reset by fake Globus');
    }
    if (failure.status === undefined && failure.body === undefined) return undefined;
    return new Response(failure.body ?? JSON.stringify({ error: 'injected_failure' }), {
      status: failure.status ?? 200,
      headers: { 'content-type': 'application/json' },
    });
  }

  const app = new Hono();
  // Hono turns a thrown error into a 500 answer; a reset must instead reject the injected fetch.
  app.onError((error, c) => {
    if (error instanceof ConnectionReset) throw error;
    return c.json({ error: 'server_error', error_description: error.message }, 500);
  });

  app.post('/v2/oauth2/token/introspect', async (c) => {
    const injected = await intercept('introspect', c);
    if (injected) return injected;
    const client = clientFrom(c);
    if (client === undefined) return c.json({ error: 'invalid_client' }, 401);
    const form = new URLSearchParams(await c.req.text());
    const token = form.get('token') ?? '';
    const record = live(token);
    if (record === undefined) return c.json({ active: false });
    const user = users.get(record.user) ?? { id: record.user };
    const now = Math.floor(clock() / 1000);
    const includeIdentitySet = (form.get('include') ?? '').split(',').includes('identity_set');
    return c.json({
      active: true,
      token_type: 'Bearer',
      scope: record.scopes.join(' '),
      client_id: record.clientId,
      sub: user.id,
      username: user.username ?? `${user.id}@example.org`,
      name: user.name ?? 'Fake User',
      email: user.email ?? `${user.id}@example.org`,
      aud: [client.id],
      iss: 'https://auth.globus.org',
      exp: Math.floor(record.expiresAt / 1000),
      iat: now,
      nbf: now,
      dependent_tokens_cache_id: token.slice(0, 12),
      ...(includeIdentitySet ? { identity_set: identitySet(user.id) } : {}),
    });
  });

  app.post('/v2/oauth2/token', async (c) => {
    const injected = await intercept('token', c);
    if (injected) return injected;
    if (clientFrom(c) === undefined) return c.json({ error: 'invalid_client' }, 401);
    const form = new URLSearchParams(await c.req.text());
    if (form.get('grant_type') !== 'urn:globus:auth:grant_type:dependent_token')
      return c.json({ error: 'unsupported_grant_type' }, 400);
    const record = live(form.get('token') ?? undefined);
    if (record === undefined) return c.json({ error: 'invalid_grant' }, 400);
    if (record.unconsented.length > 0) {
      return c.json(
        {
          error: 'dependent_consent_required',
          error_description: 'Dependent consent required',
          errors: [{ code: 'DEPENDENT_CONSENT_REQUIRED', unapproved_scopes: record.unconsented }],
        },
        403,
      );
    }
    const byServer = new Map<string, string[]>();
    for (const scope of record.dependentScopes) {
      const rs = resourceServer(scope);
      byServer.set(rs, [...(byServer.get(rs) ?? []), scope]);
    }
    return c.json(
      [...byServer].map(([rs, scopes]) => {
        const accessToken = randomToken();
        tokens.set(accessToken, {
          ...record,
          scopes,
          dependentScopes: [],
          unconsented: [],
          expiresAt: clock() + record.dependentExpiresIn * 1000,
        });
        return {
          access_token: accessToken,
          resource_server: rs,
          scope: scopes.join(' '),
          expires_in: record.dependentExpiresIn,
          token_type: 'bearer',
        };
      }),
    );
  });

  app.get('/v2/groups/my_groups', async (c) => {
    const injected = await intercept('groups', c);
    if (injected) return injected;
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const record = live(token);
    if (record === undefined || !record.scopes.includes(GROUPS_SCOPE)) {
      return c.json({ code: 'AUTHENTICATION_ERROR', description: 'Invalid or missing token' }, 401);
    }
    const user = users.get(record.user);
    return c.json(
      (user?.groups ?? []).map((id) => ({
        id,
        name: `Group ${id.slice(0, 8)}`,
        parent_id: null,
        group_type: 'regular',
        enforce_session: false,
        session_limit: 28800,
        session_timeouts: {},
        my_memberships: [
          {
            group_id: id,
            identity_id: record.user,
            username: user?.username ?? `${record.user}@example.org`,
            role: 'member',
            status: 'active',
          },
        ],
        policies: { group_visibility: 'private', group_members_visibility: 'managers' },
      })),
    );
  });

  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (init?.signal?.aborted) throw init.signal.reason;
    const answer = Promise.resolve(app.fetch(request));
    if (!init?.signal) return answer;
    const signal = init.signal;
    // Honour the caller's AbortSignal (timeouts) the way a real fetch does.
    return Promise.race([
      answer,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  }) as typeof fetch;

  return {
    client: firstClient,
    clients,
    calls,
    fetch: fakeFetch,
    app,
    addUser(user) {
      users.set(user.id, user);
    },
    issueToken(o) {
      if (!users.has(o.user)) users.set(o.user, { id: o.user });
      const token = randomToken();
      tokens.set(token, {
        user: o.user,
        scopes: o.scopes,
        active: o.active ?? true,
        expiresAt: clock() + (o.expiresIn ?? 3600) * 1000,
        dependentScopes: o.dependentScopes ?? [GROUPS_SCOPE],
        unconsented: o.unconsented ?? [],
        clientId: o.clientId ?? 'flows-client-id',
        dependentExpiresIn: o.dependentExpiresIn ?? 172_800,
      });
      return token;
    },
    revoke(token) {
      const record = tokens.get(token);
      if (record) record.active = false;
    },
    fail(endpoint, failure) {
      failures.set(endpoint, { ...failure, left: failure.times ?? Number.POSITIVE_INFINITY });
    },
    clearFailures() {
      failures.clear();
    },
    resetCalls() {
      calls.introspect = 0;
      calls.token = 0;
      calls.groups = 0;
    },
    async listen(port = 0) {
      const { serve } = await import('@hono/node-server');
      return new Promise((resolve) => {
        const server = serve(
          { fetch: app.fetch, port, hostname: '127.0.0.1', overrideGlobalObjects: false },
          (info) => {
            resolve({
              url: `http://127.0.0.1:${info.port}`,
              close: () =>
                new Promise<void>((done) => {
                  server.close(() => done());
                  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
                }),
            });
          },
        );
      });
    },
    authOptions(baseUrl) {
      return baseUrl === undefined
        ? {
            clientId: firstClient.id,
            clientSecret: firstClient.secret,
            authUrl: FAKE_BASE,
            groupsUrl: FAKE_BASE,
            fetch: fakeFetch,
          }
        : { clientId: firstClient.id, clientSecret: firstClient.secret, authUrl: baseUrl, groupsUrl: baseUrl };
    },
  };
}
