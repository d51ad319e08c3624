/**
 * @module cli/terminal: text from a provider made safe to print at a terminal. A status, an
 * error description or an HTML title is the provider's to write, and a control character in it
 * (ESC starting an ANSI or OSC sequence, a carriage return, a C1 control) would let the provider
 * clear the screen, rewrite lines already shown, retitle the window or plant a hyperlink.
 */

/** C0 controls but tab and line feed, DEL, and the C1 controls (U+0080 to U+009F, CSI among them). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these characters are what it finds.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with each control character written as its JSON escape (`\u001b`): readable, and inside
 * a JSON string (the only place JSON can hold one) the same value, so `--json` stays valid.
 *
 * @example
 * ```ts
 * terminalSafe('\x1b[2Jhi') // '\\u001b[2Jhi'
 * ```
 */
export const terminalSafe = (text: string): string =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
