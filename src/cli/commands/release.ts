/** @module cli/commands/release: `globus-action-provider release URL ID`. */
import { formatStatus, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';
import { inactiveNotice } from '../requirement.ts';

const help = `Usage: globus-action-provider release URL ID [options]

Release action ID, which has ended, on the Action Provider at URL (POST URL/ID/release, or
DELETE URL/actions/ID with --routes actions): print its last status, which the provider then
forgets (a status read afterwards answers 404).

  npx globus-action-provider release http://127.0.0.1:8080 6c1d5a8e-...

Options:
${PROVIDER_HELP}

${EXIT_HELP}
`;

export const release = providerCommand({
  name: 'release',
  summary: 'release a completed action (the provider forgets it)',
  help,
  options: {},
  positionals: ['URL', 'ID'],
  check: () => undefined,
  run: async ({ id, client, io, json: asJson, advice }) => {
    const answer = await client.release(id);
    io.stdout(asJson ? json(answer) : formatStatus(answer));
    const notice = inactiveNotice(answer, advice);
    if (notice !== undefined) io.stderr(notice);
    return 0;
  },
});
