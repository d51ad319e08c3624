/** @module cli/commands/log: `globus-action-provider log URL ID`, a page of an action's log. */
import { UsageError } from '../command.ts';
import { formatLog, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';

const help = `Usage: globus-action-provider log URL ID [options]

Print the log of action ID on the Action Provider at URL (GET URL/ID/log, or
URL/actions/ID/log with --routes actions), one entry a line; when there are more, the
--marker for the next page is on stderr.

  npx globus-action-provider log http://127.0.0.1:8080 6c1d5a8e-... --limit 50

Options:
  --limit <n>           entries per page (default the provider's: 10 for ours, at most 1000)
  --marker <marker>     the page after the one this marker ended
${PROVIDER_HELP}

${EXIT_HELP}
`;

export const log = providerCommand({
  name: 'log',
  summary: "show an action's log",
  help,
  options: { limit: { type: 'string' }, marker: { type: 'string' } },
  positionals: ['URL', 'ID'],
  check: ({ limit, marker }) => {
    if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1))
      throw new UsageError(`--limit must be a whole number from 1, not '${limit}'`);
    return { ...(limit === undefined ? {} : { limit: Number(limit) }), ...(marker === undefined ? {} : { marker }) };
  },
  run: async ({ id, input, client, io, json: asJson, again }) => {
    const page = await client.log(id, input);
    io.stdout(asJson ? json(page) : formatLog(page));
    if (!asJson && page.has_next_page === true && typeof page.marker === 'string')
      io.stderr(`More: ${again('log', id)} --marker ${JSON.stringify(page.marker)}\n`);
    return 0;
  },
});
