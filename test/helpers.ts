/** @module test/helpers: keys, identities, providers and clients shared by the test files. */
import { generateKeyPair, SignJWT } from 'jose';
import { type RunningServer, serve } from '../adapters/node.ts';
import {
  type ActionProvider,
  createActionProvider,
  jwtAuth,
  type ProviderOptions,
  silentLogger,
} from '../src/index.ts';

export const SCOPE = 'https://auth.globus.org/scopes/d3a66776-759f-4316-ba55-21725fe37323/action_all';
export const OTHER_SCOPE = 'https://auth.globus.org/scopes/11111111-1111-4111-8111-111111111111/other';
export const ISSUER = 'urn:test:issuer';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** Identity ids (bare UUIDs); `urn()` makes their URNs. */
export const USERS = {
  creator: id(1),
  creatorLinked: id(2),
  monitor: id(3),
  manager: id(4),
  member: id(5),
  stranger: id(6),
} as const;
export const GROUP = id(100);
export const urn = (uuid: string) => `urn:globus:auth:identity:${uuid}`;
export const groupUrn = (uuid: string) => `urn:globus:groups:id:${uuid}`;

const keys = await generateKeyPair('ES256');
export const publicKey = keys.publicKey;

export interface MintOptions {
  scope?: string;
  identitySet?: string[];
  groups?: string[];
  expiresIn?: string | number;
  issuer?: string;
}

/** A token the test authenticator accepts, for `sub` = `identity`. */
export function mint(identity: string, options: MintOptions = {}): Promise<string> {
  return new SignJWT({
    scope: options.scope ?? SCOPE,
    ...(options.identitySet ? { identity_set: options.identitySet } : {}),
    ...(options.groups ? { groups: options.groups } : {}),
  })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(options.issuer ?? ISSUER)
    .setSubject(identity)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(keys.privateKey);
}

/** Tokens for every test user; the creator's token carries a linked identity, the member's the group. */
export async function tokens() {
  return {
    creator: await mint(USERS.creator, { identitySet: [USERS.creator, USERS.creatorLinked] }),
    creatorLinked: await mint(USERS.creatorLinked),
    monitor: await mint(USERS.monitor),
    manager: await mint(USERS.manager),
    member: await mint(USERS.member, { groups: [GROUP] }),
    stranger: await mint(USERS.stranger),
  };
}

export const testAuth = (clock?: () => number) =>
  jwtAuth({ key: publicKey, issuer: ISSUER, algorithms: ['ES256'], ...(clock ? { clock } : {}) });

type Options = Partial<ProviderOptions> & Pick<ProviderOptions, 'run'>;

/** A provider with the test authenticator and a silent logger; anything may be overridden. */
export function testProvider(options: Partial<Options> = {}): ActionProvider {
  return createActionProvider({
    auth: testAuth(),
    logger: silentLogger,
    run: ({ request }) => ({ status: 'ACTIVE', details: { got: request.body } }),
    ...options,
    description: {
      title: 'Test provider',
      globus_auth_scope: SCOPE,
      admin_contact: 'admin@example.org',
      ...options.description,
    },
  } as ProviderOptions);
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when empty). */
  json: any;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (not JSON-encoded). */
  raw?: string;
  headers?: Record<string, string>;
}

/** Call a provider: over real HTTP when `target` is a URL, through `provider.fetch` otherwise. */
export type Call = (method: string, path: string, options?: CallOptions) => Promise<Reply>;

export function caller(target: string | ActionProvider): Call {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const init: RequestInit = { method, headers, ...(body === undefined ? {} : { body }) };
    const response =
      typeof target === 'string'
        ? await fetch(target + path, init)
        : await target.fetch(new Request(`http://provider.test${path}`, init));
    return toReply(response);
  };
}

/** A Response as a Reply: status, headers, text and parsed JSON (undefined when empty or not JSON). */
export async function toReply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Start `provider` on a free port of 127.0.0.1. */
export function listen(provider: ActionProvider, prefix?: string): Promise<RunningServer> {
  return serve(provider, { port: 0, handleSignals: false, ...(prefix === undefined ? {} : { prefix }) });
}

/** Both transports, for `describe.each`: the test body receives a `Call` for a given provider. */
export const TRANSPORTS = [
  {
    name: 'in-process fetch',
    connect: async (provider: ActionProvider) => ({ call: caller(provider), close: async () => {} }),
  },
  {
    name: 'real HTTP',
    connect: async (provider: ActionProvider) => {
      const server = await listen(provider);
      return { call: caller(server.url), close: () => server.close() };
    },
  },
] as const;

let counter = 0;
/** A fresh request_id. */
export const rid = () => `req-${Date.now()}-${++counter}`;
