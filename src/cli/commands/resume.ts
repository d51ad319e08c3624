/** @module cli/commands/resume: `globus-action-provider resume URL ID`. */
import { formatStatus, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';
import { inactiveNotice } from '../requirement.ts';

const help = `Usage: globus-action-provider resume URL ID [options]

Resume action ID on the Action Provider at URL (POST URL/ID/resume, or URL/actions/ID/resume
with --routes actions), once what it waited on is done (a consent, a new login: send the new
token), and print its status.

  npx globus-action-provider resume http://127.0.0.1:8080 6c1d5a8e-...

Options:
${PROVIDER_HELP}

${EXIT_HELP}
`;

export const resume = providerCommand({
  name: 'resume',
  summary: 'resume an INACTIVE action (after consent or a new login)',
  help,
  options: {},
  positionals: ['URL', 'ID'],
  check: () => undefined,
  run: async ({ id, client, io, json: asJson, advice }) => {
    const answer = await client.resume(id);
    io.stdout(asJson ? json(answer) : formatStatus(answer));
    const notice = inactiveNotice(answer, advice);
    if (notice !== undefined) io.stderr(notice);
    return 0;
  },
});
