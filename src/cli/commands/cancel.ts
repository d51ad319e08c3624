/** @module cli/commands/cancel: `globus-action-provider cancel URL ID`. */
import { formatStatus, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';
import { inactiveNotice } from '../requirement.ts';

const help = `Usage: globus-action-provider cancel URL ID [options]

Ask the Action Provider at URL to cancel action ID (POST URL/ID/cancel, or
URL/actions/ID/cancel with --routes actions) and print its status: the provider ends it as soon
as it can.

  npx globus-action-provider cancel http://127.0.0.1:8080 6c1d5a8e-...

Options:
${PROVIDER_HELP}

${EXIT_HELP}
`;

export const cancel = providerCommand({
  name: 'cancel',
  summary: 'cancel an action',
  help,
  options: {},
  positionals: ['URL', 'ID'],
  check: () => undefined,
  run: async ({ id, client, io, json: asJson, advice }) => {
    const answer = await client.cancel(id);
    io.stdout(asJson ? json(answer) : formatStatus(answer));
    const notice = inactiveNotice(answer, advice);
    if (notice !== undefined) io.stderr(notice);
    return 0;
  },
});
