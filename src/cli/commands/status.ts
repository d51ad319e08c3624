/**
 * @module cli/commands/status: `globus-action-provider status URL ID`, an action's status, or
 * with `--watch` its progress until it ends (polling as Globus Flows does, up to every 10 s).
 */
import { formatStatus, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';
import { inactiveNotice } from '../requirement.ts';
import { WATCH_HELP, watch, watchTimeout } from '../watch.ts';

const help = `Usage: globus-action-provider status URL ID [options]

Print the status of action ID on the Action Provider at URL (GET URL/ID/status, or
URL/actions/ID with --routes actions). With --watch, follow it until it ends: a line on stderr
each time its status, display_status or details change (read again after 1 s, 2 s, 4 s, 8 s,
then every 10 s), then its last status on stdout.

  npx globus-action-provider status http://127.0.0.1:8080 6c1d5a8e-... --watch

Options:
${WATCH_HELP}
${PROVIDER_HELP}

${EXIT_HELP}
With --watch: 0 once the action SUCCEEDED; 1 if it FAILED, waits for a person (INACTIVE: what
they must do is on stderr) or outlasts --timeout.
`;

export const status = providerCommand({
  name: 'status',
  summary: "show an action's status (--watch to follow it to its end)",
  help,
  options: { watch: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: ['URL', 'ID'],
  check: (values) => ({ watch: values.watch === true, timeout: watchTimeout(values.timeout, values.watch === true) }),
  run: async ({ id, input: { watch: watching, timeout }, client, io, json: asJson, advice }) => {
    if (watching) return watch(id, { client, io, json: asJson, timeout, advice });
    const found = await client.status(id);
    io.stdout(asJson ? json(found) : formatStatus(found));
    const notice = inactiveNotice(found, advice);
    if (notice !== undefined) io.stderr(notice);
    return 0;
  },
});
