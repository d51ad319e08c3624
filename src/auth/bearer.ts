/** @module auth/bearer: reads the bearer token from `Authorization`, as RFC 6750 and 7235 say. */

// The scheme is case-insensitive (RFC 7235); surrounding spaces are tolerated, as the Python toolkit does.
const BEARER = /^\s*bearer\s+([^\s]+)\s*$/i;

/** The token, or undefined when the header is missing, another scheme, or empty. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  return BEARER.exec(header)?.[1];
}
