/**
 * @module http/json: a request body as JSON: strict UTF-8, a bounded nesting depth (checked on
 * the text, before anything recursive sees the value), then `JSON.parse`.
 */
import { ActionError } from './errors.ts';

/** How deeply objects and arrays may nest in a request body. */
export const MAX_JSON_DEPTH = 128;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// `fatal`: invalid UTF-8 is an error, not U+FFFD (decode() without `stream` keeps no state between calls).
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The parsed body; 400 for bytes that are not UTF-8 JSON (an empty body included), 422 nested too deep. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw invalidJson();
  }
  // Nesting deeper than MAX_JSON_DEPTH needs more than that many characters.
  if (text.length > MAX_JSON_DEPTH && nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new ActionError(
      'RequestValidationError',
      `Field '$' (category: 'value'): JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson();
  }
}

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

function invalidJson(): ActionError {
  return new ActionError('BadActionRequest', 'Invalid JSON');
}
