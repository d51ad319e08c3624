/**
 * @module test/support/dockerfile: a Dockerfile built without Docker. Each stage gets a directory
 * standing for its filesystem; its WORKDIR, COPY and RUN steps are carried out there in order (RUN
 * through `sh -c` in the stage's WORKDIR with its ENV, on this machine's Node and npm, where the
 * image would use its base image's), and what the stages would run (CMD, HEALTHCHECK, USER, ENV,
 * VOLUME, EXPOSE) is handed back for a test to start. What the base image brings is not there:
 * only what the Dockerfile copies and builds. An instruction or flag it does not know throws,
 * rather than being skipped.
 */
import { chownSync, cpSync, existsSync, globSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { spawnProcess } from './processes.ts';

export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based, where it starts. */
  line: number;
}

/** The instructions of `text`: comments and blank lines dropped, `\`-continued lines joined as Docker joins them. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    if (pending === undefined && (raw.trim() === '' || raw.trimStart().startsWith('#'))) continue;
    if (pending !== undefined && raw.trimStart().startsWith('#')) continue; // comments inside a continuation
    const continued = raw.endsWith('\\');
    const part = continued ? raw.slice(0, -1) : raw;
    pending = pending === undefined ? { text: part, line: index + 1 } : { ...pending, text: pending.text + part };
    if (continued) continue;
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(pending.text);
    if (!match) throw new Error(`Dockerfile line ${pending.line}: not an instruction: ${pending.text}`);
    instructions.push({
      keyword: (match[1] as string).toUpperCase(),
      args: (match[2] as string).trim(),
      line: pending.line,
    });
    pending = undefined;
  }
  return instructions;
}

export interface Stage {
  name: string | undefined;
  image: string;
  /** The directory standing for the stage's filesystem. */
  root: string;
  /** The WORKDIR, inside the image. */
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[] | undefined;
  healthcheck: { options: Record<string, string>; cmd: string[] } | undefined;
  volumes: string[];
  expose: string[];
  /** Paths inside the image given an owner by `COPY --chown`, and that owner. */
  owners: Record<string, string>;
}

export interface StageOptions {
  /** The build context (the directory `docker build` is given). */
  context: string;
  /** An empty directory to build the stages in. */
  into: string;
  /** Users and groups known by name, for `--chown` (applied when the test runs as root). */
  ids?: Record<string, number>;
}

/** `path`, inside `stage`'s image (absolute, or relative to its WORKDIR), as a path on this machine. */
export const hostPath = (stage: Stage, path: string): string => join(stage.root, posix.resolve(stage.workdir, path));

/** `--name=value` flags off the front of `args`; the rest of the words. */
function flags(args: string, allowed: string[], line: number): { flags: Record<string, string>; rest: string } {
  const found: Record<string, string> = {};
  let rest = args;
  for (let match = /^--([a-z-]+)=(\S+)\s+/.exec(rest); match; match = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    const [whole, name, value] = match as unknown as [string, string, string];
    if (!allowed.includes(name)) throw new Error(`Dockerfile line ${line}: --${name} is not understood here`);
    found[name] = value;
    rest = rest.slice(whole.length);
  }
  return { flags: found, rest };
}

/** An exec-form command (`["node", "app.js"]`); the shell form is refused, as signals would not reach the app. */
function execForm(args: string, line: number): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string'))
    throw new Error(`Dockerfile line ${line}: expected the exec form, a JSON array of strings`);
  return parsed;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/** Run `file`'s stages in `options.into`, in order; resolves to the stages, the last one the image. */
export async function stageDockerfile(file: string, options: StageOptions): Promise<Stage[]> {
  const stages: Stage[] = [];
  const current = (line: number): Stage => {
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${line}: an instruction before FROM`);
    return stage;
  };
  for (const { keyword, args, line } of parseDockerfile(readFileSync(file, 'utf8'))) {
    if (keyword === 'FROM') {
      const [image, as, name, ...extra] = args.split(/\s+/);
      if (!image || extra.length > 0 || (as !== undefined && (as.toUpperCase() !== 'AS' || !name)))
        throw new Error(`Dockerfile line ${line}: FROM <image> [AS <name>] expected`);
      const root = join(options.into, String(stages.length));
      mkdirSync(root, { recursive: true });
      stages.push({
        name,
        image,
        root,
        workdir: '/',
        env: {},
        user: undefined,
        cmd: undefined,
        healthcheck: undefined,
        volumes: [],
        expose: [],
        owners: {},
      });
      continue;
    }
    const stage = current(line);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        mkdirSync(hostPath(stage, stage.workdir), { recursive: true });
        break;
      case 'ENV':
        for (const pair of args.split(/\s+/)) {
          const at = pair.indexOf('=');
          if (at < 1) throw new Error(`Dockerfile line ${line}: ENV name=value expected, got ${pair}`);
          stage.env[pair.slice(0, at)] = pair.slice(at + 1);
        }
        break;
      case 'COPY': {
        const { flags: given, rest } = flags(args, ['from', 'chown'], line);
        const words = rest.split(/\s+/);
        const dest = words.pop();
        if (dest === undefined || words.length === 0)
          throw new Error(`Dockerfile line ${line}: COPY <src>... <dest> expected`);
        const from = given['from'] === undefined ? undefined : stages.find((s) => s.name === given['from']);
        if (given['from'] !== undefined && !from) throw new Error(`Dockerfile line ${line}: no stage ${given['from']}`);
        const base = from ? from.root : options.context;
        const sources = words.flatMap((pattern) => {
          const relative = from ? posix.resolve('/', pattern).slice(1) : pattern;
          const matched = globSync(relative, { cwd: base });
          if (matched.length === 0) throw new Error(`Dockerfile line ${line}: COPY ${pattern} matches nothing`);
          return matched.map((path) => join(base, path));
        });
        const target = hostPath(stage, dest);
        const intoDirectory =
          dest.endsWith('/') || sources.length > 1 || (existsSync(target) && statSync(target).isDirectory());
        for (const source of sources) {
          // As Docker does: a directory's contents go into the destination, a file into it or onto it.
          const to = statSync(source).isDirectory() || !intoDirectory ? target : join(target, basename(source));
          mkdirSync(dirname(to), { recursive: true });
          cpSync(source, to, { recursive: true });
        }
        const owner = given['chown'];
        if (owner !== undefined) {
          stage.owners[posix.resolve(stage.workdir, dest)] = owner;
          const [user, group = user] = owner.split(':');
          const uid = options.ids?.[user ?? ''];
          const gid = options.ids?.[group ?? ''];
          if (uid === undefined || gid === undefined)
            throw new Error(`Dockerfile line ${line}: unknown owner ${owner}`);
          if (process.getuid?.() === 0) chownTree(target, uid, gid);
        }
        break;
      }
      case 'RUN': {
        // A path outside WORKDIR would be one on this machine, not in the stage.
        if (/(^|[\s'"=])\/(?!dev\/null)/.test(args))
          throw new Error(
            `Dockerfile line ${line}: RUN may not name absolute paths here (they would be this machine's)`,
          );
        // The machine's environment, as a builder passes its network settings (proxies, CAs) on,
        // less what npm set for the test run (npm_config_*, npm_lifecycle_*), which would steer
        // the npm steps; this Node first, standing for the base image's.
        const machine = Object.entries(process.env).filter(
          (entry): entry is [string, string] => !entry[0].toLowerCase().startsWith('npm_') && entry[1] !== undefined,
        );
        const env = {
          ...Object.fromEntries(machine),
          PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
          ...stage.env,
        };
        const run = await spawnProcess('sh', ['-c', args], {
          cwd: hostPath(stage, stage.workdir),
          env,
          inheritEnv: false,
        });
        const { code } = await run.exited;
        if (code !== 0) throw new Error(`Dockerfile line ${line}: RUN exited with ${code}:\n${run.output()}`);
        break;
      }
      case 'USER':
        stage.user = args;
        break;
      case 'VOLUME':
        stage.volumes.push(...args.split(/\s+/));
        break;
      case 'EXPOSE':
        stage.expose.push(...args.split(/\s+/));
        break;
      case 'HEALTHCHECK': {
        const { flags: given, rest } = flags(args, ['interval', 'timeout', 'start-period', 'retries'], line);
        if (!rest.startsWith('CMD '))
          throw new Error(`Dockerfile line ${line}: HEALTHCHECK [options] CMD [...] expected`);
        stage.healthcheck = { options: given, cmd: execForm(rest.slice(4), line) };
        break;
      }
      case 'CMD':
        stage.cmd = execForm(args, line);
        break;
      default:
        throw new Error(`Dockerfile line ${line}: ${keyword} is not understood by test/support/dockerfile.ts`);
    }
  }
  return stages;
}
