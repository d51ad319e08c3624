/**
 * @module validation/standard-schema: an `input` from any Standard Schema library (zod 4,
 * ArkType 2, ...): validated through `~standard.validate`, shown in introspection through
 * Standard JSON Schema (`~standard.jsonSchema`), both looked up once, at creation.
 *
 * The spec's types come from `@standard-schema/spec` rather than a copy: they appear in our
 * public declarations (`InputOption`, `InputBody`), the package is types only (its JavaScript
 * is an empty file, nothing reaches a bundle), and it follows the spec's versions (1.1 added
 * Standard JSON Schema) where a copy would have to be kept in step by hand.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { isPlainObject, type JsonObject } from '../model.ts';
import type { CompiledInput, InputResult } from './input.ts';
import { formatStandardIssues } from './issues.ts';

/**
 * The JSON Schema drafts asked of a library, in order: draft-07 first, as @valibot/to-json-schema
 * emits and the JSON Schema `input` is checked against; 2020-12 for a library that only knows it
 * (the spec recommends both, and a library throws for a target it does not support).
 */
const TARGETS = ['draft-07', 'draft-2020-12'] as const;

/** True for a Standard Schema v1 (an object, or a function as ArkType's types are, with `~standard.validate`). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props = (value as { '~standard'?: unknown })['~standard'];
  return (
    typeof props === 'object' &&
    props !== null &&
    (props as { version?: unknown }).version === 1 &&
    typeof (props as { validate?: unknown }).validate === 'function'
  );
}

/**
 * Compile a Standard Schema. `jsonSchema` is the `inputSchema` option, already checked: given,
 * the library is not asked for one. Throws a TypeError naming `input` when the library has no
 * Standard JSON Schema converter or its conversion fails.
 */
export function compileStandardSchema(schema: StandardSchemaV1, jsonSchema: JsonObject | undefined): CompiledInput {
  // Read once: ArkType's `~standard` is a getter that builds a new object on every read.
  const props = schema['~standard'];
  const vendor = typeof props.vendor === 'string' && props.vendor !== '' ? props.vendor : 'Standard Schema';
  return {
    jsonSchema: jsonSchema ?? convert(props as Partial<StandardJSONSchemaV1.Props>, vendor),
    validate(body, scrub) {
      const result: unknown = props.validate(body);
      // The spec allows a Promise (zod returns one when a refinement is async); a sync result
      // is answered without one, so a sync schema costs no microtask.
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        return Promise.resolve(result).then((settled) => toInputResult(settled, body, scrub, vendor));
      }
      return toInputResult(result, body, scrub, vendor);
    },
  };
}

/**
 * The spec's result: `{ value }`, or `{ issues: [...] }` for a failure. Anything else (`true`
 * or `false` from a validator written as a predicate, `{}`) is the schema's bug: the logged
 * 500, never a body let through unchecked.
 */
function toInputResult(result: unknown, body: JsonObject, scrub: boolean, vendor: string): InputResult<unknown> {
  if (typeof result === 'object' && result !== null) {
    const { issues } = result as { issues?: unknown };
    if (Array.isArray(issues)) return { ok: false, message: formatStandardIssues(issues, body, scrub) };
    if (issues === undefined && 'value' in result) return { ok: true, value: result.value };
  }
  throw new TypeError(
    `input: the ${vendor} schema's validate returned ${kindOf(result)}, not a Standard Schema result ({ value } or { issues: [...] })`,
  );
}

/** What a result is, in a few words: never its content, which may hold the body. */
function kindOf(result: unknown): string {
  if (result === null) return 'null';
  if (typeof result !== 'object') return `a ${typeof result}`;
  const { issues } = result as { issues?: unknown };
  if (issues === undefined) return 'an object without value or issues';
  return `issues that are no list (${issues === null ? 'null' : `a ${typeof issues}`})`;
}

/** The schema of what clients send (`input`, not `output`: transforms happen after). */
function convert(props: Partial<StandardJSONSchemaV1.Props>, vendor: string): JsonObject {
  const converter = props.jsonSchema;
  if (typeof converter?.input !== 'function') {
    throw new TypeError(
      `input: this ${vendor} schema has no Standard JSON Schema converter (~standard.jsonSchema), so introspection cannot show it; pass its JSON Schema as the inputSchema option (zod 4.2+ and ArkType 2.1.28+ have one)`,
    );
  }
  let first: unknown;
  for (const target of TARGETS) {
    try {
      const converted: unknown = converter.input({ target });
      if (!isPlainObject(converted)) throw new TypeError(`the converter returned ${typeof converted}, not an object`);
      // A copy the library cannot change later, and proof it is JSON (introspection serves it).
      return JSON.parse(JSON.stringify(converted)) as JsonObject;
    } catch (cause) {
      first ??= cause;
    }
  }
  const reason = first instanceof Error ? first.message : String(first);
  throw new TypeError(
    `input: the ${vendor} schema cannot be converted to JSON Schema (${reason}); pass its JSON Schema as the inputSchema option`,
    { cause: first },
  );
}
