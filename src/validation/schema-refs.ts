/**
 * @module validation/schema-refs: a JSON Schema moved into a larger document (an OpenAPI
 * document's components), its local `$ref`s (`#/definitions/x`, `#/$defs/x`, `#`) rebased so
 * they still point inside it.
 */
import { isPlainObject, type JsonObject } from '../model.ts';

/** Keywords whose value is one schema. */
const ONE = [
  'additionalItems',
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
] as const;
/** Keywords whose value is a list of schemas (`items` too, in its draft-07 form). */
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'] as const;
/** Keywords whose value maps names to schemas (`dependencies` too, where an entry is one). */
const MAP = ['$defs', 'definitions', 'dependentSchemas', 'patternProperties', 'properties', 'dependencies'] as const;

/**
 * A copy of `schema` whose local references point into `pointer`, the JSON Pointer fragment
 * where it is placed (`#/components/schemas/ActionInput`), so a resolver reading the whole
 * document finds `#/definitions/x` at `#/components/schemas/ActionInput/definitions/x`.
 *
 * Only schema positions are walked, never `enum`, `const`, `default` or `examples`, whose
 * `$ref` keys are data. A schema (or subschema) with an `$id` is a resource of its own,
 * against which its references resolve wherever it sits: it is left as it is.
 */
export function rebaseLocalRefs(schema: JsonObject, pointer: string): JsonObject {
  const copy = structuredClone(schema);
  rebase(copy, pointer);
  return copy;
}

function rebase(schema: unknown, pointer: string): void {
  // A schema (or subschema) with an `$id` is a resource of its own: its references stay as they are.
  if (!isPlainObject(schema) || typeof schema['$id'] === 'string') return;
  const ref = schema['$ref'];
  if (typeof ref === 'string' && (ref === '#' || ref.startsWith('#/'))) schema['$ref'] = pointer + ref.slice(1);
  for (const key of ONE) rebase(schema[key], pointer);
  for (const key of LIST) {
    const value = schema[key];
    if (Array.isArray(value)) for (const item of value) rebase(item, pointer);
    else rebase(value, pointer);
  }
  for (const key of MAP) {
    const value = schema[key];
    if (isPlainObject(value)) for (const item of Object.values(value)) rebase(item, pointer);
  }
}
