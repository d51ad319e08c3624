/**
 * @module test/support/globus: a fake Globus served on a real port, a provider using
 * `globusAuth` served on another, a manual clock and a capturing logger, for the globus-*.test.ts
 * suites; and a fetch that records what `globusAuth` sends. Everything started here stops when
 * the test ends.
 */
import { onTestFinished } from 'vitest';
import {
  type ActionProvider,
  createActionProvider,
  type DescriptionOptions,
  type GlobusAuthOptions,
  globusAuth,
  type ProviderOptions,
} from '../../src/index.ts';
import {
  type ActionClient,
  actionClient,
  type FakeGlobus,
  type FakeGlobusOptions,
  fakeGlobus,
} from '../../src/testing/index.ts';
import { listen as listenOnPort } from '../../src/testing/node.ts';
import { SCOPE } from './identities.ts';
import { type CapturingLogger, captureLogger } from './logger.ts';
import { description } from './providers.ts';
import { type RawCall, rawCaller } from './raw.ts';
import { listen } from './transports.ts';

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

/** Start the fake Globus on a real port of 127.0.0.1; it stops when the test ends. */
export async function startGlobus(options: FakeGlobusOptions = {}): Promise<{ globus: FakeGlobus; url: string }> {
  const globus = fakeGlobus(options);
  const server = await listenOnPort(globus.app);
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
  logger: CapturingLogger;
  /** The library's client as `token` (none when undefined), over HTTP. */
  client(token?: string): ActionClient;
  /** A raw request over HTTP (see raw.ts), for the Authorization headers the client does not send. */
  raw: RawCall;
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
    description: description({ title: 'Globus test provider', ...options.description }),
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
    client: (token) => actionClient(server.url, token === undefined ? {} : { token }),
    raw: rawCaller(server.url),
    token: (user, extra = {}) => globus.issueToken({ user, scopes: [SCOPE], ...extra }),
  };
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
