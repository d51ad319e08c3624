/** @module validation/issues: validation failures as the `Field '<path>' (category: '<kind>'): <message>` lines clients read. */
import type * as v from 'valibot';

/** A JSON path for a valibot issue: `$.monitor_by[0]`, `$['odd key']`. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '$';
  for (const item of issue.path ?? []) path += pathSegment(item.key);
  return path;
}

export function pathSegment(key: unknown): string {
  if (typeof key === 'number') return `[${key}]`;
  const text = String(key);
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? `.${text}` : `[${JSON.stringify(text)}]`;
}

const VALIDATION_CATEGORY: Record<string, string> = { regex: 'pattern', check: 'value', custom: 'value' };

/**
 * One `Field '<path>' (category: '<kind>'): <message>` line per issue, joined by `; `.
 * With `scrub`, valibot's "received <value>" tail is cut so user data is never echoed.
 */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[], scrub: boolean): string {
  return issues
    .map((issue) => {
      const last = issue.path?.at(-1);
      const missing =
        issue.kind === 'schema' && issue.input === undefined && last !== undefined && last.value === undefined;
      const category = missing
        ? 'required'
        : issue.kind === 'schema'
          ? 'type'
          : (VALIDATION_CATEGORY[issue.type] ?? issue.type);
      let message = missing ? 'field required' : issue.message;
      // valibot's default message ends "... but received <value>", or ": Received <value>" for checks with no expectation (email, url).
      if (scrub && !missing) message = message.replace(/(?: but r|: R)eceived [\s\S]*$/, '');
      return `Field '${issuePath(issue)}' (category: '${category}'): ${message}`;
    })
    .join('; ');
}
