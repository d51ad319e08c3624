/** @module cli/commands/introspect: `globus-action-provider introspect URL`, the provider's introspection document. */
import { formatDescription, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';

const help = `Usage: globus-action-provider introspect URL [options]

Show what the Action Provider at URL says of itself (GET URL/): its title, the Globus Auth
scope a token must carry, whether it is synchronous, who may run it, its input schema.

  npx globus-action-provider introspect https://actions.example.org/echo

Options:
${PROVIDER_HELP}

A provider visible to the public answers without a token.

${EXIT_HELP}
`;

export const introspect = providerCommand({
  name: 'introspect',
  summary: "show a provider's introspection document",
  help,
  options: {},
  positionals: ['URL'],
  check: () => undefined,
  run: async ({ client, io, json: asJson }) => {
    const description = await client.introspect();
    io.stdout(asJson ? json(description) : formatDescription(description));
    return 0;
  },
});
