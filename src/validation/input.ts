/**
 * @module validation/input: the provider's input schema (a valibot schema or a JSON Schema), compiled once
 * into a JSON Schema for introspection and a validator for `body`.
 *
 * JSON Schema validation uses @cfworker/json-schema: it interprets schemas without
 * `eval`/`new Function`, which Cloudflare Workers forbid (ajv and schemasafe generate code).
 */
import { type OutputUnit, type Schema, Validator } from '@cfworker/json-schema';
import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { isPlainObject, type JsonObject } from '../model.ts';
import { formatIssues, pathSegment } from './issues.ts';
import { DRAFT_07_META_SCHEMA } from './json-schema-meta.ts';

/** A JSON Schema document, as an object or as JSON text. */
export type JsonSchemaInput = JsonObject | string;
/** What the `input` option accepts. */
export type InputOption = v.GenericSchema | JsonSchemaInput;

export type InputResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface CompiledInput<T = unknown> {
  /** The JSON Schema shown as `input_schema` in the provider description. */
  readonly jsonSchema: JsonObject;
  validate(body: JsonObject, scrub: boolean): InputResult<T>;
}

/** True for a valibot schema (as opposed to a JSON Schema object). */
export function isValibotSchema(value: unknown): value is v.GenericSchema {
  return isPlainObject(value) && value['kind'] === 'schema' && typeof value['~run'] === 'function';
}

const SCRUBBED_JSON_SCHEMA_MESSAGE = 'Input failed schema validation';
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
 * Compile the `input` option. Throws a TypeError naming `input` when it is not usable, so a
 * bad schema fails at creation, not on the first request.
 */
export function compileInput(input: InputOption | undefined): CompiledInput {
  if (input === undefined) return compileJsonSchema({ type: 'object' });
  if (isValibotSchema(input)) return compileValibot(input);
  let schema: unknown = input;
  if (typeof input === 'string') {
    try {
      schema = JSON.parse(input);
    } catch (cause) {
      throw new TypeError('input: the JSON Schema string is not valid JSON', { cause });
    }
  }
  if (!isPlainObject(schema)) throw new TypeError('input: expected a valibot schema or a JSON Schema object');
  // A class instance is some other library's schema (zod, ArkType), never JSON Schema: taken
  // for one, introspection would show its internals and every run would fail.
  const prototype = Object.getPrototypeOf(schema) as object | null;
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
    throw new TypeError(
      `input: expected a valibot schema or a JSON Schema object, not ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'an instance of a class'}`,
    );
  }
  return compileJsonSchema(schema);
}

function compileValibot(schema: v.GenericSchema): CompiledInput {
  let jsonSchema: JsonObject;
  try {
    jsonSchema = toJsonSchema(schema, { errorMode: 'ignore' }) as JsonObject;
  } catch (cause) {
    throw new TypeError('input: the valibot schema cannot be expressed as JSON Schema', { cause });
  }
  return {
    jsonSchema,
    validate(body, scrub) {
      const result = v.safeParse(schema, body);
      return result.success
        ? { ok: true, value: result.output }
        : { ok: false, message: formatIssues(result.issues, scrub) };
    },
  };
}

/**
 * Throws a TypeError naming the first keyword of `schema` that is no valid JSON Schema
 * (`{ type: 'objekt' }`), so a bad schema fails at creation instead of answering 422 to every run.
 */
function checkSchema(schema: JsonObject): void {
  // Built per check (once per provider, at creation): no state shared between providers.
  const result = new Validator(DRAFT_07_META_SCHEMA as unknown as Schema, '7', false).validate(schema);
  if (result.valid) return;
  // The deepest error is the keyword itself; the others are the subschemas wrapping it.
  const deepest = result.errors
    .filter((error) => !APPLICATORS.has(error.keyword) && error.keyword !== 'anyOf')
    .sort((a, b) => b.instanceLocation.length - a.instanceLocation.length)[0];
  const where = (deepest ?? result.errors[0])?.instanceLocation.replace(/^#/, '') || '/';
  throw new TypeError(`input: not a valid JSON Schema at ${where}: ${deepest?.error ?? 'invalid'}`);
}

function compileJsonSchema(schema: JsonObject): CompiledInput {
  checkSchema(schema);
  const draft = String(schema['$schema'] ?? '').includes('draft-07')
    ? '7'
    : String(schema['$schema'] ?? '').includes('draft-04')
      ? '4'
      : '2020-12';
  let validator: Validator;
  try {
    validator = new Validator(schema as Schema, draft, false);
  } catch (cause) {
    throw new TypeError('input: the JSON Schema cannot be compiled', { cause });
  }
  return {
    jsonSchema: schema,
    validate(body, scrub) {
      const result = validator.validate(body);
      if (result.valid) return { ok: true, value: body };
      return { ok: false, message: formatJsonSchemaErrors(result.errors, scrub) };
    },
  };
}

/** Leaf errors only (an applicator's own line adds nothing), each as a `Field ...` line. */
function formatJsonSchemaErrors(errors: readonly OutputUnit[], scrub: boolean): string {
  const lines: string[] = [];
  for (const error of errors) {
    if (APPLICATORS.has(error.keyword)) continue;
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
    const message = scrub ? SCRUBBED_JSON_SCHEMA_MESSAGE : error.error;
    const line = `Field '${path}' (category: '${category}'): ${message}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines.join('; ') || `Field '$' (category: 'schema'): ${SCRUBBED_JSON_SCHEMA_MESSAGE}`;
}
