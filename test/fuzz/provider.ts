/**
 * @module test/fuzz/provider: the provider under fuzz: every callback present (so every route
 * does real work), a JSON Schema input that some bodies pass and some fail, a 256 KiB body
 * limit (so "too large" is cheap to reach), and a run whose body chooses the first status.
 */
import {
  type ActionStore,
  type ActionUpdate,
  type Authenticator,
  createActionProvider,
  type Logger,
} from '../../src/index.ts';

/** The body limit of the fuzz provider; the generators aim bodies on both sides of it. */
export const BODY_LIMIT = 256 * 1024;

const STATUSES = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED'] as const;

/** Bodies may name their first status; anything else succeeds at once (so active lists stay short). */
const firstStatus = (body: Record<string, unknown>): ActionUpdate['status'] =>
  STATUSES.find((s) => s === body['status']) ?? 'SUCCEEDED';

/** Constraints that valid envelopes pass and mutated ones often do not. */
const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...STATUSES] },
    n: { type: 'number', maximum: 1e6 },
    text: { type: 'string', maxLength: 4096 },
    tags: { type: 'array', maxItems: 100, items: { type: 'string' } },
  },
  additionalProperties: true,
};

export interface FuzzProviderOptions {
  auth: Authenticator;
  store: ActionStore;
  logger: Logger;
  scope: string;
}

export function fuzzProvider({ auth, store, logger, scope }: FuzzProviderOptions) {
  return createActionProvider({
    description: { title: 'Fuzz target', globus_auth_scope: scope, admin_contact: 'admin@example.org' },
    input: INPUT_SCHEMA,
    auth,
    store,
    logger,
    bodyLimit: BODY_LIMIT,
    // The echo sends the caller's own (hostile) strings back through every store and serializer.
    run: ({ request }) => ({
      status: firstStatus(request.body),
      details: { echo: request.body['echo'] ?? null },
      state: { n: 1 },
    }),
    status: ({ action }) => ({ status: action.status, details: action.details }),
    resume: ({ action }) => ({ status: action.status === 'INACTIVE' ? 'ACTIVE' : action.status }),
    release: () => {},
    log: ({ limit, marker }) => ({
      entries: Array.from({ length: Math.min(limit, 3) }, (_, i) => ({ i, marker })),
      has_next_page: marker === null,
      marker: marker === null ? 'next' : null,
    }),
  });
}
