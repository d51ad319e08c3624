/**
 * @module test/fuzz/seeding: the actions a batch's `{{id:N}}` placeholders point at, made by
 * valid runs before the batch: every status, owned by the creator, by a stranger and by the
 * group member, some with monitors and managers, so each operation meets each right and state.
 */
import type { Agent } from 'node:http';
import { GROUP_URN, USER_URNS } from './generators/envelope.ts';
import { jsonOf } from './oracles.ts';
import { send } from './send.ts';

const STATUSES = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED'];
const [, , monitor, manager] = USER_URNS;
const CREATOR = USER_URNS[0] as string;

/** Who owns seeded action `n`, and who else may see or manage it. */
const OWNERS: { token: string; extra: Record<string, unknown> }[] = [
  { token: 'creator', extra: {} },
  { token: 'creator', extra: { monitor_by: [monitor, GROUP_URN], manage_by: [manager] } },
  { token: 'stranger', extra: {} },
  { token: 'member', extra: { monitor_by: [GROUP_URN], manage_by: [CREATOR] } },
];

/** One valid run; resolves to its action id, or undefined when it was not answered 202. */
async function runOne(
  base: string,
  agent: Agent,
  token: string | undefined,
  body: string,
): Promise<string | undefined> {
  const outcome = await send(
    {
      method: 'POST',
      path: '/run',
      headers: [
        ['authorization', `Bearer ${token}`],
        ['content-type', 'application/json'],
      ],
      body: new Uint8Array(Buffer.from(body)),
      framing: 'length',
    },
    { base, agent, timeoutMs: 10_000 },
  );
  if (outcome.kind !== 'answer' || outcome.status !== 202) return undefined;
  const id = (jsonOf(outcome) as { action_id?: unknown } | undefined)?.action_id;
  return typeof id === 'string' ? id : undefined;
}

export const SEEDED = OWNERS.length * STATUSES.length;

/** Run SEEDED actions on the server at `base`; resolves to their ids, in a fixed order of owner and status. */
export async function seedActions(base: string, tokens: Record<string, string>, agent: Agent): Promise<string[]> {
  const ids: string[] = [];
  for (const { token, extra } of OWNERS) {
    for (const status of STATUSES) {
      const request_id = `seed-${crypto.randomUUID()}`;
      const body = JSON.stringify({ request_id, body: { status }, release_after: 'PT120S', ...extra });
      let id: string | undefined;
      // Three tries: a seed is harness work, and one refused connection must not end a long run.
      for (let attempt = 0; attempt < 3 && id === undefined; attempt++)
        id = await runOne(base, agent, tokens[token], body);
      if (id === undefined) throw new Error(`seeding an action failed three times on ${base}`);
      ids.push(id);
    }
  }
  return ids;
}
