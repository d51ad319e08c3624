/**
 * @module test/support/transports: the two ways a test reaches a provider, in process through
 * `provider.fetch` and over real HTTP through the Node adapter, behind one `Connection`.
 */
import { onTestFinished } from 'vitest';
import { type RunningServer, serve } from '../../adapters/node.ts';
import type { ActionProvider } from '../../src/index.ts';
import { type ActionClient, type ActionClientOptions, actionClient } from '../../src/testing/index.ts';
import { type Fetcher, type RawCall, rawCaller } from './raw.ts';

/** What a connection needs of a provider: its handler (a wrapped one will do). */
export type Servable = Pick<ActionProvider, 'fetch'>;

export type Routes = NonNullable<ActionClientOptions['routes']>;

export interface Connection {
  /** The library's client as `token` (none when undefined), on the legacy routes unless told otherwise. */
  client(token?: string, routes?: Routes): ActionClient;
  /** A raw request (see raw.ts): for what the client does not send. */
  raw: RawCall;
  /** A request of one's own (bytes, streams, abort signals). */
  fetch(path: string, init: RequestInit): Promise<Response>;
  /** The server's base URL over real HTTP; undefined in process. */
  url: string | undefined;
}

export interface Transport {
  name: 'in-process fetch' | 'real HTTP';
  /** Open a connection to `provider`; `close` ends whatever it started. */
  open(provider: Servable): Promise<{ connection: Connection; close(): Promise<void> }>;
}

/** The library's client calling `provider` in process. */
export function inProcessClient(provider: Fetcher, options: Omit<ActionClientOptions, 'fetch'> = {}): ActionClient {
  return actionClient('http://provider.test', { ...options, fetch: (request) => provider.fetch(request) });
}

const clientOptions = (token: string | undefined, routes: Routes | undefined): ActionClientOptions => ({
  ...(token === undefined ? {} : { token }),
  ...(routes === undefined ? {} : { routes }),
});

/** Start `provider` on a free port of 127.0.0.1. */
export function listen(provider: Servable, prefix?: string): Promise<RunningServer> {
  return serve(provider, { port: 0, handleSignals: false, ...(prefix === undefined ? {} : { prefix }) });
}

/** Both transports, for `describe.each`. */
export const TRANSPORTS: readonly Transport[] = [
  {
    name: 'in-process fetch',
    open: async (provider) => ({
      connection: {
        client: (token, routes) => inProcessClient(provider, clientOptions(token, routes)),
        raw: rawCaller(provider),
        fetch: async (path, init) => provider.fetch(new Request(`http://provider.test${path}`, init)),
        url: undefined,
      },
      close: async () => {},
    }),
  },
  {
    name: 'real HTTP',
    open: async (provider) => {
      const server = await listen(provider);
      return {
        connection: {
          client: (token, routes) => actionClient(server.url, clientOptions(token, routes)),
          raw: rawCaller(server.url),
          fetch: (path, init) => fetch(server.url + path, init),
          url: server.url,
        },
        close: () => {
          const closing = server.close();
          // Every test has its answers by now; a connection the client opened but never used
          // (undici opens one after an abort) would otherwise hold close() for seconds.
          server.server.closeAllConnections();
          return closing;
        },
      };
    },
  },
];

/** Connect to `provider` through `transport`; what it started closes when the test ends. */
export async function connect(transport: Transport, provider: Servable): Promise<Connection> {
  const { connection, close } = await transport.open(provider);
  onTestFinished(close);
  return connection;
}
