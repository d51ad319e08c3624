/**
 * @module test/globus-fixtures: a fake Globus served on a real port, a provider using
 * `globusAuth` served on another, a manual clock and a capturing logger, for the globus-*.test.ts
 * suites. Everything started here stops when the test ends.
 */
import { expect, onTestFinished } from 'vitest';
import {
  type ActionProvider,
  createActionProvider,
  type DescriptionOptions,
  type GlobusAuthOptions,
  globusAuth,
  type Logger,
  type ProviderOptions,
} from '../src/index.ts';
import {
  type ActionClient,
  actionClient,
  type FakeGlobus,
  type FakeGlobusOptions,
  fakeGlobus,
} from '../src/testing/index.ts';
import { type Call, caller, listen, type Reply, SCOPE } from './helpers.ts';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Group ids of the Globus suites. */
export const GROUPS = { lab: id(200), monitors: id(201), managers: id(202), other: id(203) } as const;
export const TRANSFER_SCOPE = 'urn:globus:auth:scope:transfer.api.globus.org:all';

/** A clock the test moves by hand. */
export interface ManualClock {
  (): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let now = start;
  const clock = (() => now) as ManualClock;
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** A logger that keeps every line as JSON text (what a log sink would receive). */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Start the fake Globus on a real port of 127.0.0.1; it stops when the test ends. */
export async function startGlobus(options: FakeGlobusOptions = {}): Promise<{ globus: FakeGlobus; url: string }> {
  const globus = fakeGlobus(options);
  const server = await globus.listen();
  onTestFinished(() => server.close());
  return { globus, url: server.url };
}

export interface HarnessOptions {
  fake?: FakeGlobusOptions;
  description?: Partial<DescriptionOptions>;
  /** Merged over `globus.authOptions(url)` plus the harness clock. */
  auth?: Partial<GlobusAuthOptions>;
  provider?: Partial<ProviderOptions>;
}

export interface Harness {
  globus: FakeGlobus;
  globusUrl: string;
  provider: ActionProvider;
  providerUrl: string;
  /** The clock given to `globusAuth`. */
  clock: ManualClock;
  logger: ReturnType<typeof captureLogger>;
  call: Call;
  client(token?: string): ActionClient;
  /** A fresh token from the fake for `user`, with the provider scope unless `scopes` is given. */
  token(
    user: string,
    extra?: {
      scopes?: string[];
      unconsented?: string[];
      dependentScopes?: string[];
      active?: boolean;
      expiresIn?: number;
      dependentExpiresIn?: number;
    },
  ): string;
}

/** A fake Globus and a globusAuth provider, both on real ports. */
export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const { globus, url: globusUrl } = await startGlobus(options.fake);
  const clock = manualClock();
  const logger = captureLogger();
  const provider = createActionProvider({
    description: {
      title: 'Globus test provider',
      globus_auth_scope: SCOPE,
      admin_contact: 'admin@example.org',
      ...options.description,
    },
    auth: globusAuth({ ...globus.authOptions(globusUrl), clock, ...options.auth }),
    logger,
    run: () => ({ status: 'ACTIVE', details: {} }),
    ...options.provider,
  } as ProviderOptions);
  const server = await listen(provider);
  onTestFinished(() => server.close());
  return {
    globus,
    globusUrl,
    provider,
    providerUrl: server.url,
    clock,
    logger,
    call: caller(server.url),
    client: (token) => actionClient(server.url, token === undefined ? {} : { token }),
    token: (user, extra = {}) => globus.issueToken({ user, scopes: [SCOPE], ...extra }),
  };
}

/** Assert the standard error body and status. */
export function expectError(reply: Reply | { status: number; body: unknown }, status: number, code: string): void {
  const body = 'json' in reply ? reply.json : reply.body;
  expect(reply.status, JSON.stringify(body)).toBe(status);
  expect(body).toEqual({ code, description: expect.any(String) });
}

/** A fetch that records what globusAuth sends, then forwards it (to the real server, or to `answer`). */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

export function recordingFetch(
  answer?: (request: RecordedRequest) => Response | Promise<Response>,
): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      headers: new Headers(request.headers),
      body: request.method === 'GET' || request.method === 'HEAD' ? '' : await request.clone().text(),
    };
    requests.push(recorded);
    return answer === undefined ? fetch(input, init) : answer(recorded);
  }) as typeof fetch & { requests: RecordedRequest[] };
  wrapped.requests = requests;
  return wrapped;
}

/** POST /run as `token`, expecting 202; returns the ActionStatus. */
export async function startAction(h: Harness, token: string, envelope: Record<string, unknown> = {}): Promise<any> {
  const reply = await h.client(token).run({ body: {}, ...envelope });
  expect(reply.status, JSON.stringify(reply.body)).toBe(202);
  return reply.body;
}
