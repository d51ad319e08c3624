/**
 * @module check/body: the `body` the checker runs with when it is not given one, made from the
 * provider's `input_schema` when that is simple (an object of plain typed properties, enums,
 * constants, defaults or examples), and a body the schema refuses, for the bad-input check. Each
 * is confirmed against the schema itself before it is used.
 */
import { type Schema, Validator } from '@cfworker/json-schema';
import { isPlainObject, type JsonObject } from '../model.ts';

export type Derived = { ok: true; body: JsonObject } | { ok: false; reason: string };

const TEXT = 'globus-action-provider check';
/** Subschemas this deep are not "simple". */
const MAX_DEPTH = 6;
/** Keywords whose meaning a sample cannot be made from by reading the schema alone. */
const COMPOSITE = [
  '$ref',
  '$dynamicRef',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'if',
  'patternProperties',
  'dependentSchemas',
];

/** A draft for @cfworker/json-schema from the schema's `$schema` (2020-12 when it names none). */
function draftOf(schema: JsonObject): '4' | '7' | '2019-09' | '2020-12' {
  const named = String(schema['$schema'] ?? '');
  if (named.includes('draft-04')) return '4';
  if (named.includes('draft-07') || named.includes('draft-06')) return '7';
  if (named.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** A test of `schema`: true when a value passes; undefined when it cannot be compiled. */
export function schemaTest(schema: unknown): ((value: unknown) => boolean) | undefined {
  if (!isPlainObject(schema)) return undefined;
  try {
    const validator = new Validator(schema as Schema, draftOf(schema), true);
    return (value) => {
      try {
        return validator.validate(value).valid;
      } catch {
        return false;
      }
    };
  } catch {
    return undefined;
  }
}

class NotSimple extends Error {}

function sample(schema: unknown, depth: number): unknown {
  if (schema === true || (isPlainObject(schema) && Object.keys(schema).length === 0)) return TEXT;
  if (!isPlainObject(schema) || depth > MAX_DEPTH) throw new NotSimple();
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  if (schema['default'] !== undefined) return schema['default'];
  if (Array.isArray(schema['examples']) && schema['examples'].length > 0) return schema['examples'][0];
  if (COMPOSITE.some((keyword) => keyword in schema)) throw new NotSimple();
  const types = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  const type = types.find((t) => t !== 'null') ?? (isPlainObject(schema['properties']) ? 'object' : types[0]);
  switch (type) {
    case 'object':
      return sampleObject(schema, depth);
    case 'string': {
      if (schema['pattern'] !== undefined || schema['format'] !== undefined) throw new NotSimple();
      const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
      const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Number.POSITIVE_INFINITY;
      return TEXT.length >= min && TEXT.length <= max ? TEXT : 'x'.repeat(Math.max(min, 1));
    }
    case 'integer':
    case 'number': {
      if (typeof schema['minimum'] === 'number') return Math.ceil(schema['minimum']);
      if (typeof schema['exclusiveMinimum'] === 'number') return Math.floor(schema['exclusiveMinimum']) + 1;
      return typeof schema['maximum'] === 'number' && schema['maximum'] < 0 ? Math.floor(schema['maximum']) : 0;
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const count = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      return count === 0 ? [] : Array.from({ length: count }, () => sample(schema['items'] ?? {}, depth + 1));
    }
    default:
      throw new NotSimple();
  }
}

function sampleObject(schema: JsonObject, depth: number): JsonObject {
  if (COMPOSITE.some((keyword) => keyword in schema)) throw new NotSimple();
  const properties = isPlainObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'] : [];
  const out: JsonObject = {};
  for (const name of required) {
    if (typeof name !== 'string') throw new NotSimple();
    out[name] = sample(properties[name] ?? {}, depth + 1);
  }
  return out;
}

/**
 * A body `inputSchema` accepts, made from the schema, or why none could be made.
 *
 * @example
 * ```ts
 * deriveBody({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } })
 * // { ok: true, body: { name: 'globus-action-provider check' } }
 * ```
 */
export function deriveBody(inputSchema: unknown): Derived {
  if (inputSchema === undefined || inputSchema === null) return { ok: true, body: {} };
  const test = schemaTest(inputSchema);
  if (test === undefined) return { ok: false, reason: 'its input_schema is no JSON Schema this checker can compile' };
  let body: unknown;
  try {
    body = sampleObject(inputSchema as JsonObject, 0);
  } catch (error) {
    if (!(error instanceof NotSimple)) throw error;
    return { ok: false, reason: 'its input_schema is not simple enough to make a body from (pass --body)' };
  }
  if (!isPlainObject(body) || !test(body))
    return { ok: false, reason: 'no body made from its input_schema passes it (pass --body)' };
  return { ok: true, body };
}

const WRONG: Record<string, unknown> = {
  string: 12345,
  integer: 'not a number',
  number: 'not a number',
  boolean: 'not a boolean',
  object: 'not an object',
  array: 'not an array',
  null: 'not null',
};

/** A body `inputSchema` refuses, close to `valid` (one required key gone, one of the wrong type, one too many). */
export function deriveInvalidBody(inputSchema: unknown, valid: JsonObject): Derived {
  const test = schemaTest(inputSchema ?? {});
  if (test === undefined) return { ok: false, reason: 'its input_schema is no JSON Schema this checker can compile' };
  const schema = inputSchema as JsonObject;
  const candidates: JsonObject[] = [];
  const required = Array.isArray(schema['required']) ? schema['required'] : [];
  if (required.length > 0) candidates.push({});
  const properties = isPlainObject(schema['properties']) ? schema['properties'] : {};
  for (const [name, property] of Object.entries(properties)) {
    const type = isPlainObject(property) ? property['type'] : undefined;
    if (typeof type === 'string' && type in WRONG) candidates.push({ ...valid, [name]: WRONG[type] });
  }
  if (schema['additionalProperties'] === false) candidates.push({ ...valid, globus_action_provider_check: true });
  const body = candidates.find((candidate) => !test(candidate));
  return body === undefined
    ? { ok: false, reason: 'its input_schema accepts every body this checker can make' }
    : { ok: true, body };
}
