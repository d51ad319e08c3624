/** @module validation/issues: validation failures as the `Field '<path>' (category: '<kind>'): <message>` lines clients read. */
import type * as v from 'valibot';
import { isPlainObject } from '../model.ts';

/** A JSON path for a valibot issue: `$.monitor_by[0]`, `$['odd key']`. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '$';
  for (const item of issue.path ?? []) path += pathSegment(item.key);
  return path;
}

/**
 * Lines in one 422 at most. A body within the limit can fail on millions of items (a list of
 * 5 million numbers where strings belong, each its own issue); the answer names the first and
 * counts the rest, and costs time linear in the issues however many there are.
 */
export const MAX_ISSUE_LINES = 100;
/** A path is cut past this many characters (a key can be as long as the body). */
const MAX_PATH_CHARS = 200;
/** Likewise a category or a message (an unscrubbed one may quote the whole input). */
const MAX_PART_CHARS = 500;

/** `text`, cut to `max` characters with an ellipsis (never between the halves of a surrogate pair). */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/** One `Field '<path>' (category: '<kind>'): <message>` line, each part bounded. */
export function fieldLine(path: string, category: string, message: string): string {
  return `Field '${clip(path, MAX_PATH_CHARS)}' (category: '${clip(category, MAX_PART_CHARS)}'): ${clip(message, MAX_PART_CHARS)}`;
}

/**
 * The line of each issue joined by `; `, each line once (a Set: linear however many there are),
 * at most MAX_ISSUE_LINES of them, then how many issues were left unread. Empty for no issues.
 */
export function joinLines<T>(issues: readonly T[], line: (issue: T) => string): string {
  const lines = new Set<string>();
  let read = 0;
  for (; read < issues.length && lines.size < MAX_ISSUE_LINES; read++) lines.add(line(issues[read] as T));
  const rest = issues.length - read;
  return [...lines, ...(rest > 0 ? [`and ${rest} more issues`] : [])].join('; ');
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
  return joinLines(issues, (issue) => {
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
    return fieldLine(issuePath(issue), category, message);
  });
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
 * (ArkType writes `(was "...")`), and we cannot know which do. An issue that is no object, or a
 * path that is no list, still makes a line (at `$`): the schema said the body failed.
 */
export function formatStandardIssues(issues: readonly unknown[], body: unknown, scrub: boolean): string {
  const line = (issue: unknown) => {
    const { path: segments, code, message } = (isObject(issue) ? issue : {}) as Record<string, unknown>;
    let path = '$';
    let parent: unknown = body;
    let value: unknown = body;
    let key: unknown;
    for (const item of Array.isArray(segments) ? segments : []) {
      key = isObject(item) ? item['key'] : item;
      // Past the bound the path is cut anyway: the walk goes on (for `missing`), the text stops growing.
      if (path.length <= MAX_PATH_CHARS) path += pathSegment(typeof key === 'symbol' ? key.toString() : key);
      parent = value;
      value =
        isPlainObject(parent) || Array.isArray(parent)
          ? (parent as Record<PropertyKey, unknown>)[key as string]
          : undefined;
    }
    const missing = typeof key === 'string' && isPlainObject(parent) && !Object.hasOwn(parent, key);
    const category = missing
      ? 'required'
      : typeof code === 'string' && code !== ''
        ? (STANDARD_CATEGORY[code] ?? code)
        : 'value';
    const shown = missing ? 'field required' : scrub || typeof message !== 'string' ? SCRUBBED_MESSAGE : message;
    return fieldLine(path, category, shown);
  };
  return joinLines(issues, line) || `Field '$' (category: 'schema'): ${SCRUBBED_MESSAGE}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
