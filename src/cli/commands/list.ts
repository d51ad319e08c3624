/** @module cli/commands/list: `globus-action-provider list URL`, the caller's actions as a table. */
import type { EnumerateRole } from '../../context.ts';
import { ACTION_STATUSES, type ActionStatus, type ActionStatusValue } from '../../model.ts';
import { UsageError } from '../command.ts';
import { formatList, json } from '../format.ts';
import { EXIT_HELP, PROVIDER_HELP, providerCommand } from '../provider-command.ts';

const ROLES: readonly EnumerateRole[] = ['creator_id', 'monitor_by', 'manage_by'];
/** The largest page asked for: our providers' largest. */
const PAGE = 1000;

const help = `Usage: globus-action-provider list URL [options]

List your actions on the Action Provider at URL (GET URL/actions), newest first: by
default those ACTIVE that you created, every page of them.

  npx globus-action-provider list http://127.0.0.1:8080 --status succeeded,failed
  npx globus-action-provider list http://127.0.0.1:8080 --roles creator_id,manage_by
  npx globus-action-provider list http://127.0.0.1:8080 --limit 20

Options:
  --status <list>       statuses, separated by commas (default ACTIVE):
                        ${ACTION_STATUSES.join(', ')}
  --roles <list>        your roles, separated by commas (default creator_id):
                        ${ROLES.join(', ')}
  --limit <n>           at most n actions, the newest (default all of them)
${PROVIDER_HELP}

${EXIT_HELP}
`;

function listOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  norm: (s: string) => string,
) {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => norm(s.trim()))
    .filter((s) => s !== '');
  const bad = items.find((item) => !(allowed as readonly string[]).includes(item));
  if (items.length === 0 || bad !== undefined)
    throw new UsageError(
      `--${name} must be one or more of ${allowed.join(', ')}${bad === undefined ? '' : `, not '${bad}'`}`,
    );
  return items as T[];
}

export const list = providerCommand({
  name: 'list',
  summary: 'list your actions',
  help,
  options: { status: { type: 'string' }, roles: { type: 'string' }, limit: { type: 'string' } },
  positionals: ['URL'],
  check: (values) => {
    const status = listOf<ActionStatusValue>('status', values.status, ACTION_STATUSES, (s) => s.toUpperCase());
    const roles = listOf<EnumerateRole>('roles', values.roles, ROLES, (s) => s.toLowerCase());
    const { limit } = values;
    if (limit !== undefined && (!/^\d{1,15}$/.test(limit) || Number(limit) < 1))
      throw new UsageError(`--limit must be a whole number from 1, not '${limit}'`);
    return { status, roles, limit: limit === undefined ? undefined : Number(limit) };
  },
  run: async ({ input: { status, roles, limit }, client, io, json: asJson }) => {
    const query = {
      ...(status === undefined ? {} : { status }),
      ...(roles === undefined ? {} : { roles }),
      // Pages no larger than what is wanted (our providers answer at most 1,000 a page).
      ...(limit === undefined ? {} : { limit: Math.min(limit, PAGE) }),
    };
    const actions: ActionStatus[] = [];
    for await (const page of client.listPages(query)) {
      actions.push(...page.actions);
      if (limit !== undefined && actions.length >= limit) break;
    }
    if (limit !== undefined) actions.splice(limit);
    if (asJson) io.stdout(json(actions));
    else if (actions.length === 0) io.stderr('No actions.\n');
    else io.stdout(formatList(actions));
    return 0;
  },
});
