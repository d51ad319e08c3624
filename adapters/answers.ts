/**
 * @module adapters/answers: the JSON answers an adapter gives on the provider's behalf, for a
 * request too malformed to hand to it and for an error that escaped it. Left to themselves the
 * runtimes answer these with an empty, a text or (Bun) an HTML page with a stack trace.
 */
import { ActionError, consoleLogger } from '../src/index.ts';

/** 400 for a request that cannot be turned into the provider's Request (a Host that makes no URL, say). */
export function badRequest(description: string): Response {
  return new ActionError('BadActionRequest', description).getResponse();
}

/**
 * The generic 500 for an error that escaped the provider (which answers its own errors, so this
 * is a bug worth a stack trace): logged to the console, never echoed to the client.
 */
export function escaped(error: unknown): ActionError {
  // Built here rather than once per module: the package has no module-level side effects.
  consoleLogger('error').error('unhandled error in the adapter', { error });
  return new ActionError('ActionProviderError', 'Internal Server Error');
}

/** `escaped(error)` as a Response: for a runtime's error handler. */
export const escapedError = (error: unknown): Response => escaped(error).getResponse();
