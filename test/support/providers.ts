/** @module test/support/providers: the providers the tests build, and the pieces they share. */
import {
  type ActionProvider,
  createActionProvider,
  type DescriptionOptions,
  type ProviderOptions,
  silentLogger,
} from '../../src/index.ts';
import { SCOPE, testAuth } from './identities.ts';

/** A whole provider description (testProvider's `description` option replaces its default). */
export const description = (extra: Partial<DescriptionOptions> = {}): DescriptionOptions => ({
  title: 'Test provider',
  globus_auth_scope: SCOPE,
  admin_contact: 'admin@example.org',
  ...extra,
});

type Options = Partial<ProviderOptions> & Pick<ProviderOptions, 'run'>;

/**
 * A provider with the test authenticator and a silent logger, whose run answers ACTIVE with
 * `{ got: body }`; anything may be overridden, and `description` is merged over the default.
 */
export function testProvider(options: Partial<Options> = {}): ActionProvider {
  return createActionProvider({
    auth: testAuth(),
    logger: silentLogger,
    run: ({ request }) => ({ status: 'ACTIVE', details: { got: request.body } }),
    ...options,
    description: description(options.description),
  } as ProviderOptions);
}

/** `body[key]` of a run request (testProvider's `run` sees `body` as unknown). */
export const field = (body: unknown, key: string): unknown => (body as Record<string, unknown>)[key];
