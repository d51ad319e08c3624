/** @module validation/issues: validation failures as the `Field '<path>' (category: '<kind>'): <message>` lines clients read. */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type * as v from 'valibot';
import { isPlainObject } from '../model.ts';

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

/** What a message becomes when scrubbing: the JSON Schema path says the same. */
export const SCRUBBED_MESSAGE = 'Input failed schema validation';

/**
 * Codes of zod and ArkType named as the valibot path names them, so a client sees one word for
 * the commonest failures whatever the library: a wrong type (zod's `invalid_type`, ArkType's
 * `domain`) is `type`, a failed refinement (zod's `custom`, ArkType's `predicate`) is `value`.
 * Other codes pass through, as valibot's and JSON Schema's own names do.
 */
const STANDARD_CATEGORY: Record<string, string> = {
  invalid_type: 'type',
  domain: 'type',
  custom: 'value',
  predicate: 'value',
};

/**
 * Standard Schema issues (any library) as the same lines. The spec gives only `message` and
 * `path`; the category is the issue's `code` when the library sets one (zod and ArkType do), and
 * `required` when the path names a key the body does not have (read from the body, so it holds
 * for every library). With `scrub` the message is ours: libraries are free to quote the input
 * (ArkType writes `(was "...")`), and we cannot know which do.
 */
export function formatStandardIssues(issues: readonly StandardSchemaV1.Issue[], body: unknown, scrub: boolean): string {
  const lines: string[] = [];
  for (const issue of issues) {
    let path = '$';
    let parent: unknown = body;
    let value: unknown = body;
    let key: PropertyKey | undefined;
    for (const item of issue.path ?? []) {
      key = typeof item === 'object' && item !== null ? item.key : item;
      path += pathSegment(typeof key === 'symbol' ? key.toString() : key);
      parent = value;
      value =
        isPlainObject(parent) || Array.isArray(parent) ? (parent as Record<PropertyKey, unknown>)[key] : undefined;
    }
    const missing = typeof key === 'string' && isPlainObject(parent) && !Object.hasOwn(parent, key);
    const code = (issue as { code?: unknown }).code;
    const category = missing
      ? 'required'
      : typeof code === 'string' && code !== ''
        ? (STANDARD_CATEGORY[code] ?? code)
        : 'value';
    const message = missing ? 'field required' : scrub ? SCRUBBED_MESSAGE : issue.message;
    const line = `Field '${path}' (category: '${category}'): ${message}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines.join('; ') || `Field '$' (category: 'schema'): ${SCRUBBED_MESSAGE}`;
}
