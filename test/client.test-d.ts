/**
 * @module test/client-types: compile-time tests of the public client, checked by `tsc --noEmit`:
 * what each operation answers, what `run` and `list` accept, and what an error holds.
 */
import { expectTypeOf } from 'vitest';
import {
  type ActionProviderClient,
  type ActionProviderError,
  type ActionStatus,
  actionProviderClient,
  type LogPage,
  type ProviderDescription,
  type ReadGare,
  requirementOf,
} from '../src/client/index.ts';

const client = actionProviderClient('https://actions.example.org', { token: 't', routes: 'actions' });
expectTypeOf(client).toEqualTypeOf<ActionProviderClient>();
expectTypeOf(client.introspect()).resolves.toEqualTypeOf<ProviderDescription>();
expectTypeOf(client.run({ body: { n: 1 } })).resolves.toEqualTypeOf<ActionStatus>();
expectTypeOf(client.status('id')).resolves.toEqualTypeOf<ActionStatus>();
expectTypeOf(client.release('id')).resolves.toEqualTypeOf<ActionStatus>();
expectTypeOf(client.log('id', { limit: 5 })).resolves.toEqualTypeOf<LogPage>();
expectTypeOf(client.list({ status: ['ACTIVE', 'INACTIVE'], roles: 'manage_by' })).resolves.toEqualTypeOf<
  ActionStatus[]
>();
expectTypeOf(
  client.waitFor('id', { deadline: new Date(), until: ['SUCCEEDED'] }),
).resolves.toEqualTypeOf<ActionStatus>();

// @ts-expect-error: an ActionRequest has a body
void client.run({ label: 'no body' });
// @ts-expect-error: keys outside the envelope are not sent by the typed client
void client.run({ body: {}, tags: ['x'] });
// @ts-expect-error: not a status
void client.list({ status: 'DONE' });
// @ts-expect-error: not a route family
actionProviderClient('https://x', { routes: 'v2' });

declare const error: ActionProviderError;
expectTypeOf(error.status).toEqualTypeOf<number | undefined>();
expectTypeOf(error.code).toEqualTypeOf<string>();
expectTypeOf(error.requirement).toEqualTypeOf<ReadGare | undefined>();
expectTypeOf(error.action).toEqualTypeOf<ActionStatus | undefined>();
declare const status: ActionStatus;
expectTypeOf(requirementOf(status)).toEqualTypeOf<ReadGare | undefined>();
