/**
 * @module test/fuzz/reproducer: a failing request written out so a person can send it again:
 * as a JS literal, as a `curl` line (or, for what curl cannot send, a node one-liner over a raw
 * socket), and as the `npm run fuzz -- --replay` command that regenerates it. Tokens and ids
 * become shell variables (`$TOKEN_CREATOR`, `$ID_3`) that `npm run fuzz -- --serve` exports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FuzzRequest, fill } from './request.ts';
import { SEEDED } from './seeding.ts';

const PLACEHOLDER = /\{\{(token|id):([a-z0-9-]+)\}\}/g;

/** The shell variable standing for a placeholder. */
const variable = (kind: string, name: string) =>
  kind === 'token' ? `TOKEN_${name.toUpperCase().replaceAll('-', '_')}` : `ID_${Number(name) % SEEDED}`;

/** Text split into literal pieces and variables. */
function pieces(text: string): { literal?: string; variable?: string }[] {
  const out: { literal?: string; variable?: string }[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) out.push({ literal: text.slice(last, match.index) });
    out.push({ variable: variable(match[1] as string, match[2] as string) });
    last = match.index + match[0].length;
  }
  if (last < text.length || out.length === 0) out.push({ literal: text.slice(last) });
  return out;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** A shell word: literal parts single-quoted, variables double-quoted. */
const shell = (text: string) =>
  pieces(text)
    .map((p) => (p.variable === undefined ? shellQuote(p.literal ?? '') : `"$${p.variable}"`))
    .join('');
/** A JS expression: literal parts as strings, variables from process.env. */
const js = (text: string) =>
  pieces(text)
    .map((p) => (p.variable === undefined ? JSON.stringify(p.literal) : `process.env.${p.variable}`))
    .join('+');

const decoder = new TextDecoder('utf-8', { fatal: true });
/** The body as text when it is short, valid UTF-8 and printable; else undefined. */
function printable(body: Uint8Array): string | undefined {
  if (body.byteLength > 2000) return undefined;
  try {
    const text = decoder.decode(body);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

export interface ReproducerContext {
  target: string;
  seed: number;
  index: number;
}

/** The lines of a reproducer. */
export function reproducer(request: FuzzRequest, context: ReproducerContext): string[] {
  // Deadlines are filled in now, so a replay soon after still means what the run meant.
  const body = fill(request, { tokens: {}, ids: [] }).body;
  const text = body === undefined ? undefined : printable(body);
  const literal = {
    method: request.method,
    path: abbreviate(request.path),
    headers: request.headers.map(([n, v]) => [n, abbreviate(v)]),
    ...(body === undefined
      ? {}
      : text !== undefined
        ? { body: text }
        : {
            bodyBase64: body.byteLength > 3000 ? `${body.byteLength} bytes, in ${bodyFile(body, context)}` : b64(body),
          }),
    ...(request.framing === 'length' ? {} : { framing: request.framing }),
  };
  const line = oneLiner(request, body, text, context);
  return [
    `replay: npm run fuzz -- --target ${context.target} --seed ${context.seed} --replay ${context.index}`,
    `request: ${JSON.stringify(literal)}`,
    `${request.framing === 'truncated' ? 'node' : 'curl'}: ${line.length > 1500 ? `sh ${scriptFile(line, context)}` : line}`,
  ];
}

/** A long value shortened for reading (the curl line or its script keeps it whole). */
const abbreviate = (value: string) =>
  value.length > 200 ? `${value.slice(0, 60)}...(${value.length} characters)` : value;

function findingsDir(context: ReproducerContext): string {
  const dir = join(tmpdir(), 'gap-fuzz', `${context.target}-${context.seed}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A command too long to print, as a script (it reads $URL and the tokens from the environment). */
function scriptFile(line: string, context: ReproducerContext): string {
  const file = join(findingsDir(context), `request-${context.index}.sh`);
  writeFileSync(file, `${line}\n`);
  return file;
}

const b64 = (body: Uint8Array) => Buffer.from(body).toString('base64');

function bodyFile(body: Uint8Array, context: ReproducerContext): string {
  const file = join(findingsDir(context), `request-${context.index}.bin`);
  writeFileSync(file, body);
  return file;
}

function oneLiner(
  request: FuzzRequest,
  body: Uint8Array | undefined,
  text: string | undefined,
  context: ReproducerContext,
) {
  if (request.framing === 'truncated') return rawSocket(request, body);
  const method = request.method === 'HEAD' ? '--head' : `-X ${request.method}`;
  const headers = request.headers.map(([n, v]) => `-H ${shell(`${n}: ${v}`)}`);
  if (request.framing === 'chunked') headers.push(`-H 'transfer-encoding: chunked'`);
  const curl = ['curl -sS -i', method, ...headers, `"$URL"${shell(request.path)}`].join(' ');
  if (body === undefined) return curl;
  if (text !== undefined) return `${curl} --data-binary ${shellQuote(text)}`;
  if (body.byteLength > 3000) return `${curl} --data-binary @${bodyFile(body, context)}`;
  return `printf %s ${b64(body)} | base64 -d | ${curl} --data-binary @-`;
}

/** A node one-liner writing the request to a raw socket (for lying Content-Lengths); URL from $URL. */
function rawSocket(request: FuzzRequest, body: Uint8Array | undefined): string {
  const declared = request.headers.some(([n]) => n === 'content-length')
    ? ''
    : `content-length: ${(body?.byteLength ?? 0) + 100}\r\n`;
  const rest = `${request.path} HTTP/1.1\r\nhost: fuzz\r\n${request.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}${declared}\r\n`;
  // Single-quoted for the shell: the JS uses double quotes only, and a quote inside a string becomes \u0027.
  const head = `${JSON.stringify(`${request.method} `)}+u.pathname.replace(/\\/$/,"")+${js(rest)}`.replaceAll(
    "'",
    '\\u0027',
  );
  const payload = body === undefined ? '' : `s.write(Buffer.from(${JSON.stringify(b64(body))},"base64"));`;
  const code = `const u=new URL(process.env.URL),s=require("net").connect(u.port,u.hostname,()=>{s.write(${head});${payload}setTimeout(()=>s.end(),300)});s.pipe(process.stdout)`;
  return `node -e '${code}'`;
}
