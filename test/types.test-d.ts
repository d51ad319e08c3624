/**
 * @module test/types: compile-time tests of the public API, checked by `tsc --noEmit` (part of
 * `npm test`). Each `@ts-expect-error` must be an error, or tsc fails.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type } from 'arktype';
import * as v from 'valibot';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import type { DescriptionSchema } from '../src/description.ts';
import { type DevAuth, devAuth, devBanner } from '../src/dev/index.ts';
import {
  type ActionRecord,
  type ActionRequest,
  type ActionRequestEnvelope,
  type ActionStatus,
  type ActionUpdate,
  type ActionView,
  type Authenticator,
  type Caller,
  createActionProvider,
  type DescriptionOptions,
  type GlobusAuthOptions,
  globusAuthOptionsFromEnv,
  type InputBody,
  type JsonObject,
  jwtAuth,
  type LogPage,
  type OfflineGrants,
  type StoredRequest,
} from '../src/index.ts';
import type { ActionRequestSchema, ActionStatusSchema, ActionUpdateSchema, LogPageSchema } from '../src/model.ts';
import type { RunRequest } from '../src/testing/index.ts';

const auth = jwtAuth({ jwks: { keys: [] } });
const description = { title: 't', globus_auth_scope: 's', admin_contact: 'a' };

// The body type is inferred from a valibot schema (its output, after transforms).
createActionProvider({
  description,
  auth,
  input: v.object({ input_string: v.string(), count: v.optional(v.pipe(v.string(), v.transform(Number))) }),
  run: ({ request, caller, signal, actionId }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ input_string: string; count?: number }>();
    expectTypeOf(request.request_id).toEqualTypeOf<string>();
    expectTypeOf(caller).toEqualTypeOf<Caller>();
    expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
    expectTypeOf(actionId).toEqualTypeOf<string>();
    return { status: 'SUCCEEDED', details: { you_said: request.body.input_string } };
  },
});

// A JSON Schema input gives a JSON object body.
createActionProvider({
  description,
  auth,
  input: { type: 'object', properties: { x: { type: 'string' } } },
  run: async ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<JsonObject>();
    return { status: 'ACTIVE' };
  },
});

// A zod 4 schema types the body with its output (transforms applied, defaults filled).
createActionProvider({
  description,
  auth,
  input: z.object({
    input_string: z.string(),
    count: z.string().transform(Number).optional(),
    tags: z.array(z.string()).default([]),
  }),
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ input_string: string; count?: number | undefined; tags: string[] }>();
    return { status: 'SUCCEEDED', details: { you_said: request.body.input_string } };
  },
  status: ({ action }) => {
    expectTypeOf(action.request.body.tags).toEqualTypeOf<string[]>();
    return { status: 'ACTIVE' };
  },
});

// An ArkType 2 schema too (its output, after morphs).
createActionProvider({
  description,
  auth,
  input: type({ input_string: 'string', 'count?': type('string').pipe(Number) }),
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ input_string: string; count?: number }>();
    return { status: 'SUCCEEDED' };
  },
});

// Any Standard Schema: the body is its InferOutput, and `inputSchema` may describe it.
declare const anyStandard: StandardSchemaV1<unknown, { id: number }>;
createActionProvider({
  description,
  auth,
  input: anyStandard,
  inputSchema: { type: 'object', properties: { id: { type: 'integer' } } },
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ id: number }>();
    return { status: 'ACTIVE' };
  },
});
expectTypeOf<InputBody<typeof anyStandard>>().toEqualTypeOf<StandardSchemaV1.InferOutput<typeof anyStandard>>();
expectTypeOf<InputBody<v.GenericSchema<string, number>>>().toEqualTypeOf<number>();
expectTypeOf<InputBody<undefined>>().toEqualTypeOf<JsonObject>();

// An async valibot schema types the body as a sync one does.
createActionProvider({
  description,
  auth,
  input: v.objectAsync({
    code: v.pipeAsync(
      v.string(),
      v.checkAsync(async (s) => s !== ''),
    ),
  }),
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ code: string }>();
    return { status: 'ACTIVE' };
  },
});

createActionProvider({
  description,
  auth,
  input: z.object({ input_string: z.string() }),
  // @ts-expect-error the zod body has no `nope` field
  run: ({ request }) => ({ status: 'SUCCEEDED', details: { x: request.body.nope } }),
});

createActionProvider({
  description,
  auth,
  input: type({ input_string: 'string' }),
  // @ts-expect-error the ArkType body's `input_string` is a string, not a number
  run: ({ request }) => ({ status: 'SUCCEEDED', details: { x: request.body.input_string.toFixed() } }),
});

createActionProvider({
  description,
  auth,
  input: z.object({}),
  // @ts-expect-error `inputSchema` is a JSON Schema (object or text), not a number
  inputSchema: 42,
  run: () => ({ status: 'ACTIVE' }),
});

// Callbacks on existing actions get the loaded action and return an update.
createActionProvider({
  description,
  auth,
  run: () => ({ status: 'ACTIVE' }),
  status: ({ action }) => {
    expectTypeOf(action).toEqualTypeOf<ActionView>();
    return { status: action.status, details: action.details };
  },
  cancel: async () => ({ status: 'FAILED', details: { code: 'Canceled', description: 'by user' } }),
  log: ({ limit, marker }) => ({ entries: [{ limit, marker }], has_next_page: false }),
});

expectTypeOf<ActionUpdate['status']>().toEqualTypeOf<'SUCCEEDED' | 'FAILED' | 'ACTIVE' | 'INACTIVE'>();

createActionProvider({
  description,
  auth,
  input: v.object({ input_string: v.string() }),
  // @ts-expect-error the body has no `nope` field
  run: ({ request }) => ({ status: 'SUCCEEDED', details: { x: request.body.nope } }),
});

createActionProvider({
  description,
  auth,
  // @ts-expect-error a status outside the four allowed
  run: () => ({ status: 'DONE' }),
});

createActionProvider({
  description,
  auth,
  // @ts-expect-error callbacks take one context object, not positional arguments
  run: (request: string, caller: Caller) => ({ status: 'ACTIVE', details: { request, caller } }),
});

createActionProvider({
  description,
  auth,
  run: () => ({ status: 'ACTIVE' }),
  // @ts-expect-error callbacks return plain data, not a (status, code) tuple
  cancel: () => [{ status: 'FAILED' }, 200],
});

// @ts-expect-error `run` is required
createActionProvider({ description, auth });

// @ts-expect-error `auth` is required
createActionProvider({ description, run: () => ({ status: 'ACTIVE' }) });

createActionProvider({
  // @ts-expect-error `title` is required in the description
  description: { globus_auth_scope: 's', admin_contact: 'a' },
  auth,
  run: () => ({ status: 'ACTIVE' }),
});

// Every callback on an existing action sees the body typed as `run` does.
createActionProvider({
  description,
  auth,
  input: v.object({ path: v.string() }),
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<{ path: string }>();
    return { status: 'ACTIVE' };
  },
  status: ({ action }) => {
    expectTypeOf(action.request.body).toEqualTypeOf<{ path: string }>();
    expectTypeOf(action).toEqualTypeOf<ActionView<{ path: string }>>();
    return { status: 'ACTIVE' };
  },
  cancel: ({ action }) => {
    expectTypeOf(action.request.body.path).toEqualTypeOf<string>();
    return { status: 'FAILED' };
  },
  resume: ({ action }) => {
    expectTypeOf(action.request.body).toEqualTypeOf<{ path: string }>();
    return { status: 'ACTIVE' };
  },
  release: ({ action }) => {
    expectTypeOf(action.request.body).toEqualTypeOf<{ path: string }>();
  },
  log: ({ action, limit, marker }) => {
    expectTypeOf(action.request.body).toEqualTypeOf<{ path: string }>();
    expectTypeOf(limit).toEqualTypeOf<number>();
    expectTypeOf(marker).toEqualTypeOf<string | null>();
    return { entries: [] };
  },
});

// Without `input`, the body is a JSON object everywhere (not `unknown`).
createActionProvider({
  description,
  auth,
  run: ({ request }) => {
    expectTypeOf(request.body).toEqualTypeOf<JsonObject>();
    return { status: 'ACTIVE' };
  },
  status: ({ action }) => {
    expectTypeOf(action.request.body).toEqualTypeOf<JsonObject>();
    return { status: 'ACTIVE' };
  },
});

// The wire types are the schemas' types: every ActionStatus key present, nulls where unset.
expectTypeOf<ActionStatus>().toEqualTypeOf<{
  action_id: string;
  status: 'SUCCEEDED' | 'FAILED' | 'ACTIVE' | 'INACTIVE';
  creator_id: string;
  label: string | null;
  monitor_by: string[];
  manage_by: string[];
  start_time: string;
  completion_time: string | null;
  release_after: string;
  display_status: string;
  details: JsonObject;
}>();
expectTypeOf<ActionUpdate>().toEqualTypeOf<{
  status: 'SUCCEEDED' | 'FAILED' | 'ACTIVE' | 'INACTIVE';
  details?: JsonObject | undefined;
  display_status?: string | null | undefined;
  state?: JsonObject | null | undefined;
}>();
expectTypeOf<LogPage>().toEqualTypeOf<{
  entries: JsonObject[];
  has_next_page?: boolean | undefined;
  marker?: string | null | undefined;
}>();
// The stored request: every envelope field present, null when the caller left it out.
expectTypeOf<StoredRequest['label']>().toEqualTypeOf<string | null>();
expectTypeOf<StoredRequest['monitor_by']>().toEqualTypeOf<string[] | null>();
expectTypeOf<StoredRequest['release_after']>().toEqualTypeOf<string | null>();
expectTypeOf<StoredRequest<{ n: number }>['body']>().toEqualTypeOf<{ n: number }>();
expectTypeOf<ActionRequest<{ n: number }>>().toEqualTypeOf<StoredRequest<{ n: number }>>();
expectTypeOf<ActionRecord>().toMatchTypeOf<ActionStatus>();
expectTypeOf<ActionView['state']>().toEqualTypeOf<JsonObject | null>();
// The description you write: three required fields, the rest optional.
expectTypeOf<DescriptionOptions['title']>().toEqualTypeOf<string>();
expectTypeOf<DescriptionOptions['visible_to']>().toEqualTypeOf<string[] | undefined>();
// @ts-expect-error `admin_contact` is required
const incomplete: DescriptionOptions = { title: 't', globus_auth_scope: 's' };
void incomplete;

// The client's run request is the envelope, with `request_id` optional (the client makes one up).
expectTypeOf<RunRequest['label']>().toEqualTypeOf<string | null | undefined>();
expectTypeOf<RunRequest['release_after']>().toEqualTypeOf<string | number | null | undefined>();
expectTypeOf<ActionRequestEnvelope['request_id']>().toEqualTypeOf<string | number>();
// @ts-expect-error `body` is required
const noBody: RunRequest = { request_id: 'r' };
void noBody;

// A Worker's typed Env (an interface, no index signature) is accepted as it is.
interface WorkerEnv {
  GLOBUS_CLIENT_ID: string;
  GLOBUS_CLIENT_SECRET: string;
  DB: { prepare(sql: string): unknown };
}
declare const workerEnv: WorkerEnv;
expectTypeOf(globusAuthOptionsFromEnv(workerEnv)).toEqualTypeOf<GlobusAuthOptions | undefined>();

// The public wire types are written out (fast declarations for JSR); each must equal what its
// schema infers, so a field changed in one place and not the other fails here.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameTypes: [
  Same<DescriptionOptions, v.InferInput<typeof DescriptionSchema>>,
  Same<ActionRequestEnvelope, v.InferInput<typeof ActionRequestSchema>>,
  Same<StoredRequest, v.InferOutput<typeof ActionRequestSchema>>,
  Same<ActionStatus, v.InferOutput<typeof ActionStatusSchema>>,
  Same<ActionUpdate, v.InferInput<typeof ActionUpdateSchema>>,
  Same<LogPage, v.InferInput<typeof LogPageSchema>>,
] = [true, true, true, true, true, true];
void sameTypes;
// Dev mode: devAuth resolves to an authenticator a provider takes, and mint to a token.
declare const dev: DevAuth;
expectTypeOf(devAuth).returns.resolves.toEqualTypeOf<DevAuth>();
expectTypeOf(dev.auth).toExtend<Authenticator>();
expectTypeOf(dev.mint).returns.toEqualTypeOf<Promise<string>>();
expectTypeOf(dev.keyFile).toEqualTypeOf<string | undefined>();
createActionProvider({ description, auth: dev.auth, run: () => ({ status: 'SUCCEEDED' }) });
void dev.mint({ identity: 'id', groups: ['g'], expiresIn: '30m' });
// @ts-expect-error expiresIn is seconds or a string, not a Date
void dev.mint({ expiresIn: new Date() });
expectTypeOf(devBanner).returns.toEqualTypeOf<string>();

// Kept tokens: keepTokens in run, keptToken in work and in the callbacks on an existing action;
// tokenKey takes a secret, a CryptoKey or a list; offline_tokens is private to the record.
declare const hkdfKey: CryptoKey;
createActionProvider({
  description,
  auth,
  tokenKey: ['new-secret', hkdfKey],
  run: async ({ keepTokens }) => {
    expectTypeOf(keepTokens).toEqualTypeOf<(scopes?: readonly string[]) => Promise<string[]>>();
    await keepTokens(['urn:globus:auth:scope:transfer.api.globus.org:all']);
    return { status: 'ACTIVE' };
  },
  work: async ({ keptToken }) => {
    expectTypeOf(keptToken).toEqualTypeOf<(scope: string) => Promise<string>>();
    return { status: 'SUCCEEDED' };
  },
  cancel: async ({ keptToken, caller }) => {
    expectTypeOf(keptToken).toEqualTypeOf<(scope: string) => Promise<string>>();
    expectTypeOf(caller.tokenFor).toEqualTypeOf<(scope: string) => Promise<string>>();
    return { status: 'FAILED' };
  },
});
// @ts-expect-error tokenKey is text or a CryptoKey
createActionProvider({ description, auth, tokenKey: 42, run: () => ({ status: 'SUCCEEDED' }) });
expectTypeOf<ActionRecord['offline_tokens']>().toEqualTypeOf<string | null | undefined>();
expectTypeOf<ActionView>().not.toHaveProperty('offline_tokens');
expectTypeOf<Authenticator['offline']>().toEqualTypeOf<OfflineGrants | undefined>();
