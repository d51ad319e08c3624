/**
 * @module test/support/actions: starting the action a test acts on, and the private state the
 * operation tests keep on it (which must never reach a client).
 */
import { expect } from 'vitest';
import type { ActionUpdate, RunContext } from '../../src/index.ts';
import type { ActionClient, RunRequest } from '../../src/testing/index.ts';
import { field } from './providers.ts';

let counter = 0;
/** A fresh request_id. */
export const rid = () => `req-${Date.now()}-${++counter}`;

/** Run through `client` (as its token), expecting 202; returns the ActionStatus. `envelope` may replace `body`. */
export async function start(
  client: ActionClient,
  envelope: Partial<RunRequest> = {},
  body: Record<string, unknown> = {},
): Promise<any> {
  const reply = await client.run({ body, ...envelope });
  expect(reply.status, reply.text).toBe(202);
  return reply.body;
}

/** The private state `runWithState` keeps: it must never appear in an answer. */
export const SECRET = 'state-secret-7f3a';

/** Run: ACTIVE (or body.status), with private state. */
export const runWithState = ({ request }: RunContext<unknown>): ActionUpdate => ({
  status: (field(request.body, 'status') as ActionUpdate['status'] | undefined) ?? 'ACTIVE',
  details: { step: 'run' },
  state: { secret: SECRET },
});

/** An answer's text holds neither `state` nor its content. */
export function expectNoState(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('"state"');
}
