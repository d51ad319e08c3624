/**
 * @module test/dev-auth: globus-action-provider/dev: the key kept in a directory (0600, made
 * once, shared by every instance, never silently replaced), its tokens over real HTTP (the dev
 * identity, others, linked identities and groups; another key, an expired token, another scope
 * refused), the options' checks, the creation warning and the banner.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_ISSUER, DevKeyError, devAuth, devBanner } from '../src/dev/index.ts';
import { createActionProvider, jwtAuth } from '../src/index.ts';
import { actionClient } from '../src/testing/index.ts';
import { expectAction, expectError } from './support/assertions.ts';
import { harness } from './support/globus.ts';
import { OTHER_SCOPE, SCOPE, urn } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
/** A fresh directory; `sub` names one inside it that does not exist yet. */
function freshDir(sub?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gap-dev-'));
  dirs.push(dir);
  return sub === undefined ? dir : join(dir, sub);
}

/** A provider (scope SCOPE) trusting `auth`, on a real port; a client for it as `token`. */
async function serveWith(auth: import('../src/index.ts').Authenticator) {
  const server = await listen(testProvider({ auth }));
  return {
    client: (token?: string) => actionClient(server.url, token === undefined ? {} : { token }),
    close: () => server.close(),
  };
}

interface Claims {
  iss: string;
  sub: string;
  scope: string;
  iat: number;
  exp: number;
}
const payload = (token: string): Claims => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());

describe('devAuth: the key in a directory', () => {
  it('makes the directory (0700) and a key file (0600) on first use, and loads that key afterwards', async () => {
    const dir = freshDir('nested/data');
    const first = await devAuth({ dir, scope: SCOPE });
    const file = join(dir, 'dev-key.json');
    expect(first.keyFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const bytes = readFileSync(file, 'utf8');
    const second = await devAuth({ dir, scope: SCOPE });
    expect(second.identity).toBe(first.identity);
    expect(readFileSync(file, 'utf8')).toBe(bytes);
    // A token from the first instance is accepted by a provider built on the second (a restart).
    const server = await serveWith(second.auth);
    try {
      const run = await server.client(await first.mint()).run({ body: { n: 1 } });
      expectAction(run, 202);
      expect(run.body.creator_id).toBe(urn(first.identity));
    } finally {
      await server.close();
    }
  });

  it('gives instances created at the same moment one key between them', async () => {
    const dir = freshDir('racing');
    const all = await Promise.all(Array.from({ length: 8 }, () => devAuth({ dir, scope: SCOPE })));
    expect(new Set(all.map((dev) => dev.identity)).size).toBe(1);
    const server = await serveWith(all[0]!.auth);
    try {
      for (const dev of all) expect((await server.client(await dev.mint()).run({ body: {} })).status).toBe(202);
    } finally {
      await server.close();
    }
  });

  it('loads a key file as examples/dev-auth.ts wrote it before (compact JSON, same fields)', async () => {
    const dir = freshDir();
    const pair = await generateKeyPair('ES256', { extractable: true });
    const identity = crypto.randomUUID();
    const legacy = {
      privateJwk: await exportJWK(pair.privateKey),
      publicJwk: await exportJWK(pair.publicKey),
      identity,
    };
    writeFileSync(join(dir, 'dev-key.json'), JSON.stringify(legacy), { mode: 0o600 });
    const dev = await devAuth({ dir });
    expect(dev.identity).toBe(identity);
  });

  const corrupt: [string, string][] = [
    ['an empty file', ''],
    ['a file cut off mid-write', '{"privateJwk": {"kty": "EC", "crv": "P-2'],
    ['JSON that is not a key', '{"hello": "world"}'],
    ['an identity that is not a UUID', 'IDENTITY'],
    ['a public key that is not the private key’s', 'MISMATCH'],
    ['a private scalar from another key (the pair does not sign and verify)', 'NOT_A_PAIR'],
    ['an RSA key pair', 'RS256'],
    ['a P-384 key pair', 'ES384'],
    ['an Ed25519 key pair', 'EdDSA'],
    ['a P-384 key pair labelled P-256', 'ES384_AS_P256'],
    ['key_ops that forbid the private key to sign', 'KEY_OPS'],
  ];
  it.each(corrupt)('refuses %s with a DevKeyError, and leaves the file as it was', async (_name, content) => {
    const dir = freshDir();
    const file = join(dir, 'dev-key.json');
    let text = content;
    if (/^[A-Z]/.test(content)) {
      await devAuth({ dir });
      const stored = JSON.parse(readFileSync(file, 'utf8'));
      const alg = content.startsWith('ES384')
        ? 'ES384'
        : content === 'RS256' || content === 'EdDSA'
          ? content
          : 'ES256';
      const other = await generateKeyPair(alg, { extractable: true });
      const [privateJwk, publicJwk] = [await exportJWK(other.privateKey), await exportJWK(other.publicKey)];
      if (content === 'IDENTITY') stored.identity = 'alice';
      else if (content === 'MISMATCH') stored.publicJwk = publicJwk;
      else if (content === 'NOT_A_PAIR') stored.privateJwk.d = privateJwk.d;
      else if (content === 'KEY_OPS') stored.privateJwk.key_ops = ['verify'];
      else if (content === 'ES384_AS_P256') {
        stored.privateJwk = { ...privateJwk, crv: 'P-256' };
        stored.publicJwk = { ...publicJwk, crv: 'P-256' };
      } else Object.assign(stored, { privateJwk, publicJwk });
      text = JSON.stringify(stored);
    }
    writeFileSync(file, text, { mode: 0o600 }); // as dev mode writes it: only the content is wrong
    const error = await devAuth({ dir, scope: SCOPE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevKeyError);
    expect(error).toMatchObject({ name: 'DevKeyError', code: 'ERR_DEV_KEY_INVALID', file });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/delete it to make a new key/);
    // The private key is never echoed back.
    expect((error as Error).message).not.toMatch(/"d"|privateJwk":/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('loads a key whose JWKs carry members of their own (kid, alg, use, ext), and its tokens are accepted', async () => {
    const dir = freshDir();
    const made = await devAuth({ dir });
    const file = join(dir, 'dev-key.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(stored.publicJwk, { kid: 'k1', alg: 'RS256', use: 'enc', x5c: ['not a certificate'] });
    Object.assign(stored.privateJwk, { kid: 'k1', alg: 'ES384', ext: false });
    writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
    const dev = await devAuth({ dir, scope: SCOPE });
    expect(dev.identity).toBe(made.identity);
    const server = await serveWith(dev.auth);
    try {
      expect((await server.client(await dev.mint()).run({ body: {} })).status).toBe(202);
    } finally {
      await server.close();
    }
  });

  it('refuses a key file it cannot read (a directory in its place) as unreadable', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'dev-key.json'));
    await expect(devAuth({ dir })).rejects.toMatchObject({ code: 'ERR_DEV_KEY_UNREADABLE' });
  });

  it('refuses a symbolic link in place of the key file, and writes nothing where it points', async () => {
    const theirs = freshDir();
    await devAuth({ dir: theirs }); // a valid key, somewhere else
    const dir = freshDir();
    symlinkSync(join(theirs, 'dev-key.json'), join(dir, 'dev-key.json'));
    const error = await devAuth({ dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DevKeyError', code: 'ERR_DEV_KEY_UNSAFE', file: join(dir, 'dev-key.json') });
    expect((error as Error).message).toMatch(/symbolic link/);
    // A link to nothing yet: no key is made at its target, and none is handed out unstored.
    const target = join(freshDir(), 'planted.json');
    const other = freshDir();
    symlinkSync(target, join(other, 'dev-key.json'));
    await expect(devAuth({ dir: other })).rejects.toMatchObject({ code: 'ERR_DEV_KEY_UNSAFE' });
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a key file other users can read or write, and says how to fix it', async () => {
    for (const mode of [0o644, 0o660, 0o606]) {
      const dir = freshDir();
      await devAuth({ dir });
      const file = join(dir, 'dev-key.json');
      chmodSync(file, mode);
      const error = await devAuth({ dir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_DEV_KEY_UNSAFE', file });
      expect((error as Error).message).toContain(`chmod 600 ${file}`);
      chmodSync(file, 0o600);
      expect((await devAuth({ dir })).keyFile).toBe(file);
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a key file that belongs to another user (one planted in a shared directory)',
    async () => {
      const dir = freshDir();
      await devAuth({ dir });
      chownSync(join(dir, 'dev-key.json'), 65_534, 65_534); // nobody
      const error = await devAuth({ dir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_DEV_KEY_UNSAFE' });
      expect((error as Error).message).toMatch(/belongs to user 65534/);
    },
  );

  it('refuses a FIFO or a device in place of the key file at once, instead of waiting or reading forever', async () => {
    const dir = freshDir();
    execFileSync('mkfifo', [join(dir, 'dev-key.json')]);
    await expect(devAuth({ dir })).rejects.toMatchObject({ code: 'ERR_DEV_KEY_UNREADABLE' });
    const zero = freshDir();
    symlinkSync('/dev/zero', join(zero, 'dev-key.json'));
    await expect(devAuth({ dir: zero })).rejects.toMatchObject({ code: 'ERR_DEV_KEY_UNSAFE' });
  }, 5_000);

  it('refuses a key file far larger than a key without reading it all', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'dev-key.json'), `{"pad": "${'x'.repeat(1_000_000)}"}`, { mode: 0o600 });
    const error = await devAuth({ dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_DEV_KEY_INVALID' });
    expect((error as Error).message).toMatch(/larger than a dev key/);
  });

  it('takes a recorded scope only when it is one, and never waits on a FIFO there', async () => {
    const dir = freshDir();
    await devAuth({ dir });
    const scopeFile = join(dir, 'dev-scope.json');
    writeFileSync(scopeFile, JSON.stringify({ scope: `${SCOPE}\n\u001b[2J$(touch pwned)` }));
    expect((await devAuth({ dir })).scope).toBeUndefined();
    rmSync(scopeFile);
    execFileSync('mkfifo', [scopeFile]);
    expect((await devAuth({ dir })).scope).toBeUndefined();
    // Given a scope, the record is replaced by a file (the FIFO is renamed over, never opened for writing).
    expect((await devAuth({ dir, scope: SCOPE })).scope).toBe(SCOPE);
    expect(JSON.parse(readFileSync(scopeFile, 'utf8'))).toEqual({ scope: SCOPE });
  }, 5_000);

  it('with create: false, loads an existing key and refuses a directory without one (making nothing)', async () => {
    const dir = freshDir();
    const made = await devAuth({ dir });
    expect((await devAuth({ dir, create: false })).identity).toBe(made.identity);
    const empty = freshDir('none-here');
    await expect(devAuth({ dir: empty, create: false })).rejects.toMatchObject({ code: 'ERR_DEV_KEY_MISSING' });
    expect(() => statSync(empty)).toThrow();
  });

  it('records the scope it was given, and mints for it by default afterwards', async () => {
    const dir = freshDir();
    await devAuth({ dir, scope: OTHER_SCOPE });
    await devAuth({ dir, scope: SCOPE }); // the last provider to start wins
    const later = await devAuth({ dir });
    expect(later.scope).toBe(SCOPE);
    expect(payload(await later.mint()).scope).toBe(SCOPE);
    expect(JSON.parse(readFileSync(join(dir, 'dev-scope.json'), 'utf8'))).toEqual({ scope: SCOPE });
  });

  it('keeps the key in memory without a directory', async () => {
    const dev = await devAuth({ scope: SCOPE });
    expect(dev.keyFile).toBeUndefined();
    expect(dev.dir).toBeUndefined();
    expect(payload(await dev.mint()).iss).toBe(DEV_ISSUER);
  });
});

describe('devAuth: its tokens over real HTTP', () => {
  it('authenticates the dev identity, another identity, linked identities and groups as Globus identities', async () => {
    const dev = await devAuth({ scope: SCOPE });
    const server = await serveWith(dev.auth);
    try {
      const group = crypto.randomUUID();
      const run = await server
        .client(await dev.mint())
        .run({ body: {}, monitor_by: [`urn:globus:groups:id:${group}`] });
      expectAction(run, 202);
      expect(run.body.creator_id).toBe(`urn:globus:auth:identity:${dev.identity}`);
      const id = run.body.action_id;
      const alice = crypto.randomUUID();
      // A stranger sees nothing; a member of the group may monitor; an identity linked to the creator may manage.
      expectError(await server.client(await dev.mint({ identity: alice })).status(id), 404, 'ActionNotFound');
      expect((await server.client(await dev.mint({ identity: alice, groups: [group] })).status(id)).status).toBe(200);
      const linked = await dev.mint({ identity: `urn:globus:auth:identity:${alice}`, identities: [dev.identity] });
      expect((await server.client(linked).cancel(id)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('mints a login with MFA and a username, which a provider requiring a session checks', async () => {
    const dev = await devAuth({ scope: SCOPE });
    const server = await listen(
      testProvider({ auth: dev.auth, requireSession: { mfa: true, domains: ['uchicago.edu'] } }),
    );
    try {
      const plain = await actionClient(server.url, { token: await dev.mint() }).run({ body: {} });
      expect(plain.status).toBe(403);
      expect(plain.body).toMatchObject({
        code: 'AuthorizationRequired',
        authorization_parameters: { session_required_mfa: true, session_required_single_domain: ['uchicago.edu'] },
      });
      const strong = await dev.mint({ mfa: true, username: 'dev@uchicago.edu' });
      expect(payload(strong)).toMatchObject({ amr: ['pwd', 'mfa'], preferred_username: 'dev@uchicago.edu' });
      expectAction(await actionClient(server.url, { token: strong }).run({ body: {} }), 202);
    } finally {
      await server.close();
    }
  });

  it('refuses a token from another key, an expired token, one without the provider scope, and a forged issuer', async () => {
    const dir = freshDir();
    const dev = await devAuth({ dir, scope: SCOPE });
    const server = await serveWith(dev.auth);
    try {
      const stranger = await devAuth({ scope: SCOPE }); // another key, same issuer and claims
      expectError(
        await server.client(await stranger.mint({ identity: dev.identity })).run({ body: {} }),
        401,
        'UnauthorizedRequest',
      );
      // Minted two hours ago with the same key, valid for one: expired an hour ago.
      const past = await devAuth({ dir, create: false, clock: () => Date.now() - 2 * 3_600_000 });
      const expired = await past.mint({ expiresIn: '1h' });
      expectError(await server.client(expired).run({ body: {} }), 401, 'UnauthorizedRequest');
      expectError(
        await server.client(await dev.mint({ scope: OTHER_SCOPE })).run({ body: {} }),
        401,
        'UnauthorizedRequest',
      );
      // Signed with the very key, but claiming another issuer.
      const { privateJwk } = JSON.parse(readFileSync(join(dir, 'dev-key.json'), 'utf8'));
      const forged = await new SignJWT({ scope: SCOPE })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('https://auth.globus.org')
        .setSubject(dev.identity)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(await importJWK(privateJwk, 'ES256'));
      expectError(await server.client(forged).run({ body: {} }), 401, 'UnauthorizedRequest');
      // The provider's own tokens still work: the refusals are about the tokens.
      expect((await server.client(await dev.mint()).run({ body: {} })).status).toBe(202);
    } finally {
      await server.close();
    }
  });

  it('is refused by every authenticator but its own: globusAuth, and a jwtAuth with its key but another issuer', async () => {
    const dir = freshDir();
    const dev = await devAuth({ dir, scope: SCOPE });
    const token = await dev.mint();
    // Globus Auth introspects it (the fake answers as Globus does for a token it never issued).
    const globus = await harness();
    expectError(await globus.client(token).run({ body: {} }), 401, 'UnauthorizedRequest');
    // Even trusting the very key, an issuer of one's own is not the dev issuer.
    const { publicJwk } = JSON.parse(readFileSync(join(dir, 'dev-key.json'), 'utf8'));
    for (const issuer of ['https://issuer.example', ['https://issuer.example', 'https://auth.globus.org']]) {
      const server = await serveWith(jwtAuth({ jwks: { keys: [publicJwk] }, issuer }));
      try {
        expectError(await server.client(token).run({ body: {} }), 401, 'UnauthorizedRequest');
      } finally {
        await server.close();
      }
    }
    // The control: the same jwtAuth pinned to the dev issuer takes it, so the refusals are the issuer's.
    const pinned = await serveWith(jwtAuth({ jwks: { keys: [publicJwk] }, issuer: DEV_ISSUER }));
    try {
      expect((await pinned.client(token).run({ body: {} })).status).toBe(202);
    } finally {
      await pinned.close();
    }
  });

  it('mints tokens that live as long as told, and are refused once that is over', async () => {
    let now = Date.now();
    const dev = await devAuth({ scope: SCOPE, clock: () => now });
    const token = await dev.mint({ expiresIn: 90 });
    const claims = payload(token);
    expect(claims.exp - claims.iat).toBe(90);
    const server = await serveWith(dev.auth);
    try {
      expect((await server.client(token).run({ body: {} })).status).toBe(202);
      now += 60_000;
      expect((await server.client(token).enumerate()).status).toBe(200);
      now += 61_000; // past exp and jwtAuth's 30 s of tolerance (the cache shares the clock)
      expectError(await server.client(token).enumerate(), 401, 'UnauthorizedRequest');
    } finally {
      await server.close();
    }
  });
});

describe('devAuth: checks and warnings', () => {
  it('checks its options at creation', async () => {
    await expect(devAuth({ dir: '' })).rejects.toThrow(/devAuth: dir must be a non-empty path/);
    await expect(devAuth({ create: false })).rejects.toThrow(/create: false needs a dir/);
    await expect(devAuth({ scope: '' })).rejects.toThrow(/devAuth: scope must be/);
    await expect(devAuth({ clock: 5 as never })).rejects.toThrow(/clock must be a function/);
  });

  it('checks what a token is to say before signing it', async () => {
    const dev = await devAuth({ scope: SCOPE });
    await expect(devAuth().then((d) => d.mint())).rejects.toThrow(/no scope/);
    await expect(dev.mint({ identity: 'alice' })).rejects.toThrow(/identity must be a Globus identity id/);
    await expect(dev.mint({ identities: ['bob'] })).rejects.toThrow(/identities must each be/);
    await expect(dev.mint({ groups: ['urn:globus:auth:identity:x'] })).rejects.toThrow(/groups must each be/);
    for (const expiresIn of [0, -5, 1.5, '1y', '31d', 'soon'])
      await expect(dev.mint({ expiresIn })).rejects.toThrow(/expiresIn must be/);
    await expect(dev.mint({ mfa: 'yes' as never })).rejects.toThrow(/mfa must be a boolean/);
    await expect(dev.mint({ username: 'nobody' })).rejects.toThrow(/username must be a username/);
    const week = payload(await dev.mint({ expiresIn: '7d' }));
    expect(week.exp - week.iat).toBe(7 * 86_400);
  });

  it('makes createActionProvider warn that it is in dev mode, wherever it runs', async () => {
    const dev = await devAuth({ scope: SCOPE });
    const logger = captureLogger();
    createActionProvider({
      description: { title: 'T', globus_auth_scope: SCOPE, admin_contact: 'a@example.org' },
      auth: dev.auth,
      logger,
      run: () => ({ status: 'SUCCEEDED' }),
    });
    const warning = logger.lines.find((line) => /DEV MODE/.test(line.message));
    expect(warning?.level).toBe('warn');
    expect(warning?.message).toContain(DEV_ISSUER);
    const quiet = captureLogger();
    testProvider({ logger: quiet });
    expect(quiet.lines.some((line) => /DEV MODE/.test(line.message))).toBe(false);
  });
});

describe('devBanner', () => {
  const options = { url: 'http://127.0.0.1:8080/echo/', token: 'a.b.c', dir: '.data', title: 'Echo' };

  it('names the key and sends a fresh request_id each time it is made', () => {
    const first = devBanner(options);
    const second = devBanner(options);
    expect(first).toMatch(/DEV MODE/);
    expect(first).toContain('.data/dev-key.json');
    expect(first).toContain('Echo listening on http://127.0.0.1:8080/echo/');
    expect(first).toContain('TOKEN=$(npx globus-action-provider token --dir .data)');
    const ids = [first, second].map((text) => /"request_id":"([^"]+)"/.exec(text)?.[1]);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('quotes what the shell would otherwise split or expand', () => {
    const text = devBanner({ ...options, dir: "/tmp/it's here", body: { say: "don't" } });
    expect(text).toContain(`--dir '/tmp/it'\\''s here'`);
    expect(text).toContain(`"say":"don'\\''t"`);
  });

  /** The banner's command lines, as a user pastes them (one at a time, so prose is never run). */
  const commandLines = (banner: string): string[] =>
    banner
      .split('\n')
      .map((line) => line.trim().replace(/^A fresh token any time: /, ''))
      .filter((line) => /^(TOKEN=|RUN=|ID=|curl )/.test(line));

  it('lets no value break out of its quoting, in bash -c or an interactive bash (history expansion on)', () => {
    const dir = freshDir();
    const marker = join(dir, 'pwned');
    // Each way out of a quote in bash and zsh, and history expansion's own: in an interactive
    // shell `!!:s` rewrites the line before into a double-quoted word, `$(...)` and all.
    const payloads = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `'; touch ${marker}; '`,
      `"; touch ${marker}; "`,
      `\\"; touch ${marker}; #`,
      `!!:s@printf@touch ${marker};printf@`,
    ];
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir };
    for (const evil of payloads) {
      const banners = [
        { url: `http://127.0.0.1:1/${evil}/a b` },
        { token: `t${evil}` },
        { dir: join(dir, `d ${evil}`) },
        { title: `T${evil}` },
        { requestId: `r${evil}` },
        { body: { say: evil } },
      ].map((hostile) => devBanner({ ...options, dir, tokenCommand: 'printf %s', ...hostile }));
      for (const banner of banners) {
        const lines = commandLines(banner);
        expect(lines).toHaveLength(6);
        // Whatever the commands exit with (curl finds nothing on port 1): only what they ran matters.
        spawnSync('bash', ['-c', lines.join('\n')], { cwd: dir, env, stdio: 'ignore' });
        // Interactive: lines read one by one from stdin, as pasted (job control warnings aside).
        spawnSync('bash', ['--norc', '--noprofile', '-i'], {
          cwd: dir,
          env,
          input: `${lines.join('\n')}\n`,
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        expect(existsSync(marker), banner).toBe(false);
      }
    }
    // And a value arrives whole: the directory, as the token command's argument.
    const evil = payloads.join('');
    const [fresh] = commandLines(devBanner({ ...options, dir: join(dir, evil), tokenCommand: 'printf %s' }));
    const echoed = execFileSync('bash', ['-c', `${fresh}\nprintf '%s' "$TOKEN"`], { cwd: dir, env, encoding: 'utf8' });
    expect(echoed).toBe(`--dir${join(dir, evil)}`);
  });

  it('gives the token command a directory that starts with a dash as the value of --dir, not an option', async () => {
    const banner = devBanner({ ...options, dir: '-data', tokenCommand: 'printf "%s\\n"' });
    const [fresh] = commandLines(banner);
    const args = execFileSync('bash', ['-c', `${fresh}; printf '%s' "$TOKEN"`], { encoding: 'utf8' }).split('\n');
    const { runCli } = await import('../src/cli/run.ts');
    const stderr: string[] = [];
    const code = await runCli(['token', ...args], { stdout: () => {}, stderr: (text) => stderr.push(text), env: {} });
    // Not the usage error ("argument is ambiguous"): there is no key in ./-data, and it says so.
    expect({ code, stderr: stderr.join('') }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no dev key in -data/),
    });
  });

  it('refuses control characters, which would make the terminal show other lines than are pasted', () => {
    for (const field of ['url', 'title', 'dir', 'token', 'requestId', 'tokenCommand'] as const) {
      const value = field === 'url' ? 'http://127.0.0.1:1/\n  curl evil' : `x\u001b[1A\u001b[2K`;
      expect(() => devBanner({ ...options, [field]: value }), field).toThrow(new RegExp(`devBanner: ${field}`));
    }
  });

  it('says when the key lives in memory, and offers no token command it could not honour', () => {
    const text = devBanner({ url: 'http://127.0.0.1:1', token: 't' });
    expect(text).toMatch(/kept in memory/);
    expect(text).not.toMatch(/globus-action-provider token/);
  });

  it('refuses a url or token that are not', () => {
    expect(() => devBanner({ ...options, url: 'localhost:8080' })).toThrow(TypeError);
    expect(() => devBanner({ ...options, token: '' })).toThrow(TypeError);
  });
});
