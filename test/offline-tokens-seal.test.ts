/**
 * @module test/offline-tokens-seal: the sealing of kept tokens on its own: the `tokenKey`
 * secrets (base64 or base64url, 32 bytes or more, or an HKDF CryptoKey), AES-GCM blobs bound to
 * their action, key rotation (the first seals, all open), tampering and malformed blobs refused
 * with a reason and without the blob in the message; and the same module on Bun, Deno and
 * workerd, each opening what Node sealed and sealing what Node opens (Web Crypto only).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { OfflineToken } from '../src/index.ts';
import { resolveTokenKeys, type TokenKeyring } from '../src/tokens/keys.ts';
import { openTokens, SealedTokensError, sealTokens, type TokenSet } from '../src/tokens/seal.ts';
import type { SealCheckInput, SealCheckOutput } from './fixtures/seal-check.ts';
import { startWorker } from './support/hosts.ts';
import { BIN, ROOT } from './support/processes.ts';

const randomBytes = (n = 32) => crypto.getRandomValues(new Uint8Array(n));
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const base64url = (bytes: Uint8Array) => base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const token = (n: number): OfflineToken => ({
  access_token: `access-${n}-${crypto.randomUUID()}`,
  refresh_token: `refresh-${n}-${crypto.randomUUID()}`,
  resource_server: 'transfer.api.globus.org',
  scopes: ['urn:globus:auth:scope:transfer.api.globus.org:all'],
  expires_at: Date.UTC(2030, 0, 1) + n,
});
const SET: TokenSet = { scopes: ['urn:globus:auth:scope:transfer.api.globus.org:all'], tokens: [token(1)] };
const ring = (option: unknown) => resolveTokenKeys(option) as TokenKeyring;

describe('tokenKey', () => {
  it('takes 32 or more random bytes as base64 (padded or not) or base64url, and an HKDF CryptoKey', async () => {
    const bytes = randomBytes(48);
    for (const text of [base64(bytes), base64(bytes).replace(/=+$/, ''), base64url(bytes), ` ${base64(bytes)}\n`]) {
      const keys = ring(text);
      const sealed = await sealTokens(keys, 'a1', SET);
      // The same secret written either way is the same key.
      await expect(openTokens(ring(base64url(bytes)), 'a1', sealed)).resolves.toEqual(SET);
    }
    const hkdf = await crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey', 'deriveBits']);
    await expect(openTokens(ring(base64(bytes)), 'a1', await sealTokens(ring(hkdf), 'a1', SET))).resolves.toEqual(SET);
  });

  it.each([
    ['31 bytes', base64(randomBytes(31)), /holds 31 bytes, fewer than 32/],
    ['not base64', 'correct horse battery staple, a passphrase', /not base64/],
    ['an empty list', [], /a list must hold 1 to 16/],
    ['an object', { key: 'x' }, /neither text nor a CryptoKey/],
    ['a bad second key', [base64(randomBytes()), 'short'], /tokenKey\[1\]/],
  ])('refuses %s, naming tokenKey', (_name, option, message) => {
    expect(() => resolveTokenKeys(option)).toThrow(TypeError);
    expect(() => resolveTokenKeys(option)).toThrow(message);
    expect(() => resolveTokenKeys(option)).toThrow(/tokenKey/);
  });

  it('is undefined without a key', () => {
    expect(resolveTokenKeys(undefined)).toBeUndefined();
  });
});

describe('sealed token sets', () => {
  const key = base64(randomBytes());

  it('is v1.<key id>.<iv>.<ciphertext>, holds no token in the clear, and differs at each seal', async () => {
    const keys = ring(key);
    const a = await sealTokens(keys, 'a1', SET);
    const b = await sealTokens(keys, 'a1', SET);
    expect(a).toMatch(/^v1\.[\w-]{11}\.[\w-]{16}\.[\w-]+$/);
    expect(a.split('.')[1]).toBe(b.split('.')[1]);
    expect(a).not.toBe(b);
    for (const secret of [SET.tokens[0]!.access_token, SET.tokens[0]!.refresh_token]) {
      expect(a).not.toContain(secret);
      expect(atob(a.split('.')[3]!.replace(/-/g, '+').replace(/_/g, '/'))).not.toContain(secret);
    }
  });

  it('rotates: the first key seals, every key opens; a key dropped from the list no longer opens its blobs', async () => {
    const oldKey = key;
    const newKey = base64(randomBytes());
    const sealedOld = await sealTokens(ring(oldKey), 'a1', SET);
    const both = ring([newKey, oldKey]);
    await expect(openTokens(both, 'a1', sealedOld)).resolves.toEqual(SET);
    const sealedNew = await sealTokens(both, 'a1', SET);
    expect(sealedNew.split('.')[1]).not.toBe(sealedOld.split('.')[1]);
    await expect(openTokens(ring(newKey), 'a1', sealedNew)).resolves.toEqual(SET);
    const refused = await openTokens(ring(newKey), 'a1', sealedOld).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SealedTokensError);
    expect(refused).toMatchObject({ reason: 'unknown-key' });
    expect((refused as Error).message).toMatch(/no longer holds/);
  });

  it('refuses a blob changed in any part, or opened for another action, as tampered', async () => {
    const keys = ring(key);
    const sealed = await sealTokens(keys, 'a1', SET);
    const parts = sealed.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const changed = [
      [parts[0], parts[1], flip(parts[2]!, 3), parts[3]].join('.'),
      [parts[0], parts[1], parts[2], flip(parts[3]!, 5)].join('.'),
      [parts[0], parts[1], parts[2], flip(parts[3]!, parts[3]!.length - 3)].join('.'), // the tag
    ];
    for (const blob of changed) {
      await expect(openTokens(keys, 'a1', blob)).rejects.toMatchObject({ reason: 'tampered' });
    }
    const other = await openTokens(keys, 'a2', sealed).catch((e: unknown) => e);
    expect(other).toMatchObject({ name: 'SealedTokensError', reason: 'tampered' });
    expect((other as Error).message).not.toContain(sealed);
    // Any other key has another id: the blob names a key this keyring does not hold.
    await expect(openTokens(ring(base64(randomBytes())), 'a1', sealed)).rejects.toMatchObject({
      reason: 'unknown-key',
    });
  });

  it('refuses what is not a sealed set as malformed', async () => {
    const keys = ring(key);
    const sealed = await sealTokens(keys, 'a1', SET);
    const [, id] = sealed.split('.');
    for (const blob of ['', 'v1', 'v2.a.b.c', sealed.replace(/^v1/, 'v0'), `v1.${id}.short.abc`, `v1.${id}.!!!.abc`]) {
      await expect(openTokens(keys, 'a1', blob)).rejects.toMatchObject({ reason: 'malformed' });
    }
  });
});

/** Run a script with SEAL_INPUT set; resolve to its last stdout line, parsed. */
function runScript(command: string, args: string[], input: SealCheckInput): Promise<SealCheckOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, SEAL_INPUT: JSON.stringify(input) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${command} exited with ${code}:\n${out}\n${err}`));
      else resolve(JSON.parse(line) as SealCheckOutput);
    });
  });
}

const RUNTIMES: { name: string; check: (input: SealCheckInput) => Promise<SealCheckOutput> }[] = [
  { name: 'Bun', check: (input) => runScript(BIN('bun'), ['test/fixtures/seal-runtime.ts'], input) },
  {
    name: 'Deno',
    check: (input) => runScript(BIN('deno'), ['run', '--allow-env', 'test/fixtures/seal-runtime.ts'], input),
  },
  {
    name: 'workerd',
    check: async (input) => {
      const worker = await startWorker('test/fixtures/seal-worker.ts', {});
      try {
        const response = await fetch(worker.url, { method: 'POST', body: JSON.stringify(input) });
        if (response.status !== 200) throw new Error(`workerd answered ${response.status}: ${await response.text()}`);
        return (await response.json()) as SealCheckOutput;
      } finally {
        await worker.stop();
      }
    },
  },
];

describe.each(RUNTIMES)('sealing on $name', ({ check }) => {
  it('opens what Node sealed, seals what Node opens, and refuses another action’s blob', async () => {
    const keys = [base64url(randomBytes()), base64(randomBytes())];
    const actionId = crypto.randomUUID();
    // Sealed with the second key: the runtime must find it by its id.
    const sealed = await sealTokens(ring(keys[1]), actionId, SET);
    const theirs: TokenSet = {
      scopes: null,
      tokens: [token(2), { ...token(3), resource_server: 'groups.api.globus.org' }],
    };
    const output = await check({ keys, actionId, sealed, set: theirs });
    expect(output.opened).toEqual(SET);
    expect(output.otherAction).toBe('tampered');
    expect(output.sealed.split('.')[1]).not.toBe(sealed.split('.')[1]); // sealed with the first key
    await expect(openTokens(ring(keys), actionId, output.sealed)).resolves.toEqual(theirs);
  }, 60_000);
});
