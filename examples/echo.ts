/** @module examples/echo: a synchronous echo provider, the same on every runtime. */

import { type ActionStore, type Authenticator, createActionProvider, type Logger } from 'globus-action-provider';
import * as v from 'valibot';

export const ECHO_SCOPE = 'https://auth.globus.org/scopes/00000000-0000-4000-8000-000000000000/echo';

export interface EchoOptions {
  auth: Authenticator;
  store?: ActionStore;
  logger?: Logger;
  scope?: string;
}

export function echoProvider(options: EchoOptions) {
  return createActionProvider({
    description: {
      title: 'Echo',
      subtitle: 'Answers with what you said',
      globus_auth_scope: options.scope ?? ECHO_SCOPE,
      admin_contact: 'admin@example.org',
      synchronous: true,
    },
    input: v.object({ input_string: v.string() }),
    auth: options.auth,
    ...(options.store ? { store: options.store } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    run: ({ request }) => ({ status: 'SUCCEEDED', details: { you_said: request.body.input_string } }),
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
