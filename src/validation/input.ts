/**
 * @module validation/input: the provider's input schema (valibot, any Standard Schema library
 * such as zod 4 or ArkType 2, or a JSON Schema), compiled once into a JSON Schema for
 * introspection and a validator for `body`.
 *
 * JSON Schema validation uses @cfworker/json-schema: it interprets schemas without
 * `eval`/`new Function`, which Cloudflare Workers forbid (ajv and schemasafe generate code).
 */
import { type OutputUnit, type Schema, Validator } from '@cfworker/json-schema';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import type { Awaitable } from '../awaitable.ts';
import { isPlainObject, type JsonObject } from '../model.ts';
import { fieldLine, formatIssues, joinLines, pathSegment, SCRUBBED_MESSAGE } from './issues.ts';
import { DRAFT_07_META_SCHEMA } from './json-schema-meta.ts';
import { isLarge, MORE_NOT_LISTED, parseListing, parseListingAsync } from './listing.ts';
import { compileStandardSchema, isStandardSchema } from './standard-schema.ts';

/** A JSON Schema document, as an object or as JSON text. */
export type JsonSchemaInput = JsonObject | string;
/**
 * What the `input` option accepts: a valibot schema (sync or async), any Standard Schema v1
 * (zod 4, ArkType 2, ...; introspection needs its Standard JSON Schema converter or the
 * `inputSchema` option), or a JSON Schema.
 */
export type InputOption = v.GenericSchema | v.GenericSchemaAsync | StandardSchemaV1 | JsonSchemaInput;

export type InputResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface CompiledInput<T = unknown> {
  /** The JSON Schema shown as `input_schema` in the provider description. */
  readonly jsonSchema: JsonObject;
  /** A result, or a promise of one for a schema that validates asynchronously. */
  validate(body: JsonObject, scrub: boolean): Awaitable<InputResult<T>>;
}

/** True for a valibot schema (as opposed to a JSON Schema object). */
export function isValibotSchema(value: unknown): value is v.GenericSchema | v.GenericSchemaAsync {
  return isPlainObject(value) && value['kind'] === 'schema' && typeof value['~run'] === 'function';
}

const EXPECTED = 'expected a valibot, zod 4, ArkType or other Standard Schema, or a JSON Schema object';

/** Keywords that only wrap the errors of their subschemas. */
const APPLICATORS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'items',
  'prefixItems',
  'contains',
  'allOf',
  'dependentSchemas',
  'unevaluatedProperties',
  'unevaluatedItems',
  '$ref',
  '$dynamicRef',
  'if',
  'then',
  'else',
]);

/**
 * Compile the `input` option, with `inputSchema` (the JSON Schema introspection shows, for a
 * schema library's `input`). Throws a TypeError naming the option that is not usable, so a bad
 * schema fails at creation, not on the first request.
 */
export function compileInput(input: InputOption | undefined, inputSchema?: JsonSchemaInput): CompiledInput {
  const shown = inputSchema === undefined ? undefined : jsonSchemaOption(inputSchema, 'inputSchema');
  if (shown !== undefined && !isValibotSchema(input) && !isStandardSchema(input)) {
    throw new TypeError(
      input === undefined
        ? "inputSchema: pass a JSON Schema as input (inputSchema only describes a schema library's input)"
        : "inputSchema: a JSON Schema input is shown as it is; inputSchema is for a schema library's input",
    );
  }
  if (input === undefined) return compileJsonSchema({ type: 'object' });
  // valibot first (it is a Standard Schema too): its own issues say which check failed, and it
  // has a JSON Schema converter of its own.
  if (isValibotSchema(input)) return compileValibot(input, shown);
  if (isStandardSchema(input)) return compileStandardSchema(input, shown);
  return compileJsonSchema(jsonSchemaOption(input, 'input'));
}

/** A JSON Schema given as an object or as JSON text, checked against the draft-07 meta-schema. */
function jsonSchemaOption(input: unknown, name: 'input' | 'inputSchema'): JsonObject {
  let schema: unknown = input;
  if (typeof input === 'string') {
    try {
      schema = JSON.parse(input);
    } catch (cause) {
      throw new TypeError(`${name}: the JSON Schema string is not valid JSON`, { cause });
    }
  }
  const expected = name === 'input' ? EXPECTED : 'expected a JSON Schema object';
  if (!isPlainObject(schema)) throw new TypeError(`${name}: ${expected}`);
  // Meant for a Standard Schema, but not a v1 one that validates (a later version, or Standard
  // JSON Schema alone): as JSON Schema it would allow anything, `~standard` being no keyword.
  if ('~standard' in schema) {
    throw new TypeError(`${name}: expected a Standard Schema of version 1 with ~standard.validate()`);
  }
  // A class instance is some other library's schema (zod 3, Yup), never JSON Schema: taken
  // for one, introspection would show its internals and every run would fail.
  const prototype = Object.getPrototypeOf(schema) as object | null;
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
    throw new TypeError(
      `${name}: ${expected}, not ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'an instance of a class'}`,
    );
  }
  checkSchema(schema, name);
  return schema;
}

function compileValibot(schema: v.GenericSchema | v.GenericSchemaAsync, shown: JsonObject | undefined): CompiledInput {
  let jsonSchema = shown;
  if (jsonSchema === undefined) {
    try {
      // Typed for sync schemas only; it reads `type` and `entries`, which async ones share.
      jsonSchema = toJsonSchema(schema as v.GenericSchema, { errorMode: 'ignore' }) as JsonObject;
    } catch (cause) {
      throw new TypeError('input: the valibot schema cannot be expressed as JSON Schema', { cause });
    }
  }
  // v.safeParse rather than `~standard.validate`: the same `~run` underneath, and its issues
  // keep valibot's kind and type, which formatIssues reads for the category.
  const validate: CompiledInput['validate'] = schema.async
    ? (body, scrub) => parseListingAsync(schema, body).then((parsed) => valibotResult(parsed, scrub))
    : (body, scrub) => valibotResult(parseListing(schema as v.GenericSchema, body), scrub);
  return { jsonSchema, validate };
}

function valibotResult(
  { result, partial }: { result: v.SafeParseResult<v.GenericSchema>; partial: boolean },
  scrub: boolean,
): InputResult<unknown> {
  if (result.success) return { ok: true, value: result.output };
  const message = formatIssues(result.issues, scrub);
  return { ok: false, message: partial ? `${message}; ${MORE_NOT_LISTED}` : message };
}

/**
 * Throws a TypeError naming the first keyword of `schema` that is no valid JSON Schema
 * (`{ type: 'objekt' }`), so a bad schema fails at creation instead of answering 422 to every run.
 */
function checkSchema(schema: JsonObject, name: 'input' | 'inputSchema'): void {
  // Built per check (once per provider, at creation): no state shared between providers.
  const result = new Validator(DRAFT_07_META_SCHEMA as unknown as Schema, '7', false).validate(schema);
  if (result.valid) return;
  // The deepest error is the keyword itself; the others are the subschemas wrapping it.
  const deepest = result.errors
    .filter((error) => !APPLICATORS.has(error.keyword) && error.keyword !== 'anyOf')
    .sort((a, b) => b.instanceLocation.length - a.instanceLocation.length)[0];
  const where = (deepest ?? result.errors[0])?.instanceLocation.replace(/^#/, '') || '/';
  throw new TypeError(`${name}: not a valid JSON Schema at ${where}: ${deepest?.error ?? 'invalid'}`);
}

/** A JSON Schema already checked (or the default, `{ type: 'object' }`). */
function compileJsonSchema(schema: JsonObject): CompiledInput {
  const draft = String(schema['$schema'] ?? '').includes('draft-07')
    ? '7'
    : String(schema['$schema'] ?? '').includes('draft-04')
      ? '4'
      : '2020-12';
  // One that stops at the first error (for validity, and for a large body), one that lists them all.
  let first: Validator;
  let every: Validator;
  try {
    first = new Validator(schema as Schema, draft, true);
    every = new Validator(schema as Schema, draft, false);
  } catch (cause) {
    throw new TypeError('input: the JSON Schema cannot be compiled', { cause });
  }
  return {
    jsonSchema: schema,
    validate(body, scrub) {
      try {
        const result = first.validate(body);
        if (result.valid) return { ok: true, value: body };
        if (isLarge(body)) {
          return { ok: false, message: `${formatJsonSchemaErrors(result.errors, scrub)}; ${MORE_NOT_LISTED}` };
        }
        return { ok: false, message: formatJsonSchemaErrors(every.validate(body).errors, scrub) };
      } catch (error) {
        // cfworker makes a JSON pointer of each key it visits with encodeURI, which throws on a
        // lone surrogate; the stores keep such a key exactly, but this schema cannot check it.
        if (!(error instanceof URIError)) throw error;
        return { ok: false, message: `Field '$' (category: 'value'): ${UNCHECKABLE_KEY}` };
      }
    },
  };
}

const UNCHECKABLE_KEY = 'A property name holds an unpaired surrogate, which the JSON Schema validator cannot check';

/** Leaf errors only (an applicator's own line adds nothing), each as a `Field ...` line. */
function formatJsonSchemaErrors(errors: readonly OutputUnit[], scrub: boolean): string {
  const leaves = errors.filter((error) => !APPLICATORS.has(error.keyword));
  const line = (error: OutputUnit) => {
    const segments = error.instanceLocation
      .replace(/^#\/?/, '')
      .split('/')
      .filter((s) => s !== '');
    let path = '$';
    for (const raw of segments) {
      const segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      path += pathSegment(/^\d+$/.test(segment) ? Number(segment) : segment);
    }
    const category = error.keyword === 'false' ? 'additionalProperties' : error.keyword;
    if (error.keyword === 'required') {
      const missing = /property "(.*)"/.exec(error.error)?.[1];
      if (missing !== undefined) path += pathSegment(missing);
    }
    return fieldLine(path, category, scrub ? SCRUBBED_MESSAGE : error.error);
  };
  return joinLines(leaves, line) || `Field '$' (category: 'schema'): ${SCRUBBED_MESSAGE}`;
}
