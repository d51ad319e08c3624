/**
 * @module examples/echo: an echo provider, the same on every runtime: synchronous, or with
 * `background` the echo is background work (a `work` callback), the action ACTIVE until it is done.
 */

import {
  type ActionStore,
  type Authenticator,
  createActionProvider,
  type Logger,
  type ProviderOptions,
  type Telemetry,
} from 'globus-action-provider';
import * as v from 'valibot';

export const ECHO_SCOPE = 'https://auth.globus.org/scopes/00000000-0000-4000-8000-000000000000/echo';

export interface EchoOptions {
  auth: Authenticator;
  store?: ActionStore;
  logger?: Logger;
  scope?: string;
  /**
   * Echo in the background: run answers ACTIVE and the `work` callback echoes, durably (on
   * Workers in the action's own Durable Object, see examples/worker.ts). Default false.
   */
  background?: boolean;
  /** Default `Echo`. */
  title?: string;
  /** Answer with a `Server-Timing` header (an `onResponse` hook). Default true; the benchmarks turn it off. */
  serverTiming?: boolean;
  /** Spans and metrics: `openTelemetry()` from globus-action-provider/opentelemetry. Default none. */
  telemetry?: Telemetry;
}

const input = v.object({ input_string: v.string() });

/** The background echo: one checkpoint a polling client sees, then the answer. */
const echoLater: NonNullable<ProviderOptions<typeof input>['work']> = async ({ action, progress }) => {
  await progress({ display_status: 'Echoing' });
  return { status: 'SUCCEEDED', details: { you_said: action.request.body.input_string } };
};

export function echoProvider(options: EchoOptions) {
  const background = options.background === true;
  return createActionProvider({
    description: {
      title: options.title ?? 'Echo',
      subtitle: 'Answers with what you said',
      globus_auth_scope: options.scope ?? ECHO_SCOPE,
      admin_contact: 'admin@example.org',
      synchronous: !background,
    },
    input,
    auth: options.auth,
    ...(options.store ? { store: options.store } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    run: ({ request }) =>
      background
        ? { status: 'ACTIVE', display_status: 'Queued' }
        : { status: 'SUCCEEDED', details: { you_said: request.body.input_string } },
    ...(background ? { work: echoLater } : {}),
    // Every answer says how long the provider took (browsers' devtools show Server-Timing).
    ...(options.serverTiming === false
      ? {}
      : {
          hooks: {
            onResponse: ({ durationMs }) => ({
              headers: { 'server-timing': `provider;dur=${durationMs.toFixed(1)}` },
            }),
          },
        }),
    log: ({ action }) => ({
      entries: [
        {
          time: action.completion_time ?? action.start_time,
          message: `Echoed ${JSON.stringify(action.details['you_said'])}`,
        },
      ],
    }),
  });
}
