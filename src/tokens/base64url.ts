/**
 * @module tokens/base64url: bytes to base64url text and back (base64 accepted too), with
 * `btoa`/`atob` only, so sealing works unchanged on Node, Bun, Deno and Workers.
 */

const ALPHABET = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** `bytes` as unpadded base64url. */
export function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The bytes of base64url or base64 text (padding optional), or undefined when it is neither. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!ALPHABET.test(text)) return undefined;
  const plain = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (plain.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(plain + '='.repeat((4 - (plain.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
