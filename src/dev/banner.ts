/**
 * @module dev/banner: what a provider in dev mode prints when it starts: that it is in dev
 * mode, and shell commands (bash and zsh) that run an action, read its status and release it.
 */

export interface DevBannerOptions {
  /** Where the provider listens, its prefix included (what `serve()` answers as `url`). */
  url: string;
  /** A dev token (`dev.mint()`), printed on purpose: it is what the commands use. */
  token: string;
  /** The key's directory (`dev.dir`); undefined for a key in memory. */
  dir?: string | undefined;
  /** Who is listening. Default `Action provider`. */
  title?: string;
  /** The `body` of the run request the commands send. Default `{}`. */
  body?: Record<string, unknown>;
  /** The request_id it sends. Default a fresh UUID, so each printing runs a new action. */
  requestId?: string;
  /**
   * The command that mints a fresh token, `--dir <dir>` to be appended (`--dir=<dir>` for one
   * that starts with a dash; spelt out, so a different DATA_DIR in another shell cannot point it
   * elsewhere). Printed as it is: a command of your own, not quoted. Default
   * `npx globus-action-provider token`.
   */
  tokenCommand?: string;
}

/** `text` as one shell word, quoted only when it has to be (bash and zsh alike). */
export function shellWord(text: string): string {
  return /^[\w./:@+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Whether `text` holds a character that makes a terminal show something else than what is pasted:
 * C0 and C1 controls (a newline starts a line that looks like a command of the banner's, escape
 * sequences move the cursor or erase), and the bidirectional overrides that reorder a line.
 */
function misleads(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}

/** `value`, checked to be a string fit for the banner. */
function printable(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`devBanner: ${name} must be a string`);
  if (misleads(value)) throw new TypeError(`devBanner: ${name} must not hold control characters`);
  return value;
}

/**
 * The dev-mode banner: a warning naming the key, and commands to paste into bash or zsh. The
 * run command sends a fresh request_id each time the banner is made; the action id is read
 * from its answer with `sed`, which every Unix-like machine has (`jq` is not a given).
 *
 * @example
 * ```ts
 * console.log(devBanner({ url, token: await dev.mint(), dir: dev.dir, title: 'Echo provider', body: { input_string: 'hello' } }))
 * ```
 */
export function devBanner(options: DevBannerOptions): string {
  const { url, token } = options;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url))
    throw new TypeError('devBanner: url must be an http(s) URL');
  if (typeof token !== 'string' || token === '') throw new TypeError('devBanner: token must be a token');
  for (const name of ['url', 'token', 'dir', 'title', 'requestId', 'tokenCommand'] as const)
    if (options[name] !== undefined) printable(name, options[name]);
  const { dir } = options;
  const base = url.replace(/\/+$/, '');
  const requestId = options.requestId ?? crypto.randomUUID();
  const body = JSON.stringify({ request_id: requestId, body: options.body ?? {} });
  const auth = '-H "Authorization: Bearer $TOKEN"';
  // Single-quoted, the URL is safe from history expansion too: in an interactive bash or zsh, a
  // `!` inside double quotes still expands (`!!:s/a/b/` can write a command substitution there).
  const under = (path: string): string => `${shellWord(`${base}/`)}"$ID"/${path}`;
  const where =
    dir === undefined
      ? 'a key kept in memory (its tokens stop working when the process ends)'
      : `the key in ${dir.replace(/\/+$/, '')}/dev-key.json`;
  // A directory that starts with a dash would read as an option after `--dir `.
  const dirOption =
    dir === undefined ? '' : dir.startsWith('-') ? `--dir=${shellWord(dir)}` : `--dir ${shellWord(dir)}`;
  const tokenCommand =
    dir === undefined ? undefined : `${options.tokenCommand ?? 'npx globus-action-provider token'} ${dirOption}`;
  return [
    '',
    `  DEV MODE: callers are authenticated by tokens signed with ${where},`,
    `  issuer urn:globus-action-provider:dev. Nothing else trusts them: not for production.`,
    `  ${options.title ?? 'Action provider'} listening on ${base}/`,
    '',
    '  Try it (bash or zsh): run an action, read its status, release it.',
    ...(tokenCommand ? [`  A fresh token any time: TOKEN=$(${tokenCommand})`] : []),
    '',
    `  TOKEN=${shellWord(token)}`,
    `  RUN=$(curl -s -X POST ${shellWord(`${base}/run`)} ${auth} -H 'Content-Type: application/json' -d ${shellWord(body)}); printf '%s\\n' "$RUN"`,
    `  ID=$(printf '%s' "$RUN" | sed -n 's/.*"action_id":"\\([^"]*\\)".*/\\1/p')`,
    `  curl -s ${under('status')} ${auth}; echo`,
    `  curl -s -X POST ${under('release')} ${auth}; echo`,
    '',
  ].join('\n');
}
