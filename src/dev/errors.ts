/** @module dev/errors: `DevKeyError`, what dev mode throws when its key cannot be had. */

/** Why the dev key could not be had; stable, for programs that tell them apart. */
export type DevKeyErrorCode =
  /** No key where one was to be loaded (`create: false`). */
  | 'ERR_DEV_KEY_MISSING'
  /** The file is there but could not be read (permissions, a directory, FIFO or device in its place). */
  | 'ERR_DEV_KEY_UNREADABLE'
  /**
   * The key is not safe to trust: a symbolic link in its place, or a file that belongs to another
   * user or that others can read or change (anyone who knows the key can mint tokens).
   */
  | 'ERR_DEV_KEY_UNSAFE'
  /** The file was read but holds no dev key (not JSON, a field missing or wrong, far too large). */
  | 'ERR_DEV_KEY_INVALID'
  /** The key or the directory could not be written. */
  | 'ERR_DEV_KEY_UNWRITABLE';

/**
 * The dev key could not be loaded or made. Never answered by making a new key in its place:
 * that would quietly invalidate every token minted so far, and hide what is wrong with the file.
 */
export class DevKeyError extends Error {
  override readonly name: string = 'DevKeyError';
  readonly code: DevKeyErrorCode;
  /** The key file concerned. */
  readonly file: string;

  constructor(code: DevKeyErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.file = file;
  }
}
