/** @module test/options: bad options fail at creation with a TypeError naming the field. */
import * as v from 'valibot';
import { describe, expect, it, vi } from 'vitest';
import {
  createActionProvider,
  jwtAuth,
  type Logger,
  memoryStore,
  type ProviderOptions,
  silentLogger,
} from '../src/index.ts';
import { publicKey, SCOPE } from './support/identities.ts';

const base = (): ProviderOptions => ({
  description: { title: 'T', globus_auth_scope: SCOPE, admin_contact: 'a@example.org' },
  auth: jwtAuth({ key: publicKey }),
  logger: silentLogger,
  run: () => ({ status: 'ACTIVE' }),
});

const create = (patch: Record<string, unknown>) => () =>
  createActionProvider({ ...base(), ...patch } as ProviderOptions);
const withDescription = (patch: Record<string, unknown>) =>
  create({ description: { ...base().description, ...patch } });

describe('createActionProvider options', () => {
  it.each([
    ['description.title', withDescription({ title: '' })],
    ['description.title', withDescription({ title: 'x'.repeat(129) })],
    ['description.globus_auth_scope', withDescription({ globus_auth_scope: undefined })],
    ['description.admin_contact', withDescription({ admin_contact: 42 })],
    ['description.synchronous', withDescription({ synchronous: 'yes' })],
    ['description.visible_to.0', withDescription({ visible_to: ['everyone'] })],
    [
      'description.runnable_by.1',
      withDescription({ runnable_by: ['all_authenticated_users', 'urn:globus:auth:identity:nope'] }),
    ],
    ['description.maximum_deadline', withDescription({ maximum_deadline: '30 days' })],
    ['description.additional_scopes.0', withDescription({ additional_scopes: [''] })],
    ['description', create({ description: undefined })],
    ['run', create({ run: undefined })],
    ['status', create({ status: 'not a function' })],
    ['log', create({ log: {} })],
    ['auth', create({ auth: undefined })],
    ['auth', create({ auth: {} })],
    ['store', create({ store: { get() {} } })],
    ['bodyLimit', create({ bodyLimit: 0 })],
    ['bodyLimit', create({ bodyLimit: 1.5 })],
    ['scrubValidationErrors', create({ scrubValidationErrors: 'no' })],
    ['logger', create({ logger: { info() {} } })],
    ['clock', create({ clock: 5 })],
    ['input', create({ input: '{not json' })],
    ['input', create({ input: 42 })],
    ['input', create({ input: ['type', 'object'] })],
    ['input', create({ input: () => ({}) })],
    ['inputSchema', create({ input: v.object({}), inputSchema: 42 })],
    ['inputSchema', create({ input: v.object({}), inputSchema: '{not json' })],
    ['inputSchema', create({ input: v.object({}), inputSchema: { type: 'objekt' } })],
  ])('%s', (field, make) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`^${field.replaceAll('.', '\\.')}`));
  });

  it('accepts a valibot schema, a JSON Schema object and a JSON Schema string', () => {
    const schemas = [
      v.object({ a: v.string() }),
      { type: 'object', properties: { a: { type: 'string' } } },
      '{"type":"object"}',
    ];
    for (const input of schemas)
      expect(createActionProvider({ ...base(), input }).description.input_schema).toMatchObject({ type: 'object' });
  });

  it('logger: null or undefined means the default console logger', () => {
    const lines = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(create({ logger: null })).not.toThrow();
      expect(create({ logger: undefined })).not.toThrow();
      // The memory store's warning, written by the console logger as one JSON line each time.
      expect(lines.mock.calls.map(([line]) => JSON.parse(String(line)).level)).toEqual(['warn', 'warn']);
    } finally {
      lines.mockRestore();
    }
  });

  it('warns once, at creation, that the default memory store loses actions on restart', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
    createActionProvider({ ...base(), logger });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/lost on restart/);
  });

  it('rejects a jwtAuth without keys, or with both kinds', () => {
    expect(() => jwtAuth({})).toThrow(/exactly one of jwks or key/);
    expect(() => jwtAuth({ key: publicKey, jwks: { keys: [] } })).toThrow(TypeError);
    expect(() => jwtAuth({ jwks: 'not a url' })).toThrow(/jwks/);
  });

  it('resolves the description once; log_supported follows the log callback', () => {
    const without = createActionProvider({ ...base(), store: memoryStore() });
    const withLog = createActionProvider({ ...base(), log: () => ({ entries: [] }) });
    expect(without.description.log_supported).toBe(false);
    expect(withLog.description.log_supported).toBe(true);
  });
});

describe('option keys nobody reads', () => {
  it.each([
    ['runTimout', 'runTimeout'],
    ['bodylimit', 'bodyLimit'],
    ['Logger', 'logger'],
    ['stauts', 'status'],
    ['enumerte', 'enumerate'],
    ['inputs', 'input'],
  ])('refuses %s at creation, naming %s', (typo, meant) => {
    const make = create({ [typo]: 1 });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(`createActionProvider: unknown option "${typo}" (did you mean "${meant}"?)`);
  });

  it('lists the options when nothing is close', () => {
    expect(create({ somethingElse: true })).toThrow(
      /^createActionProvider: unknown option "somethingElse"; known options: description, input, inputSchema, auth, store, run, /,
    );
  });

  it('accepts every documented option', () => {
    const provider = createActionProvider({
      ...base(),
      input: v.object({}),
      inputSchema: { type: 'object' },
      store: memoryStore(),
      status: () => ({ status: 'ACTIVE' }),
      cancel: () => ({ status: 'FAILED' }),
      resume: () => ({ status: 'ACTIVE' }),
      release: () => {},
      log: () => ({ entries: [] }),
      enumerate: () => [],
      bodyLimit: 1024,
      runTimeout: 1_000,
      scrubValidationErrors: false,
      clock: Date.now,
      generateId: () => crypto.randomUUID(),
      tokenKey: btoa('k'.repeat(32)),
    });
    expect(provider.description.title).toBe('T');
  });
});

describe('input given as a JSON Schema', () => {
  it.each([
    [{ type: 'objekt' }, 'input: not a valid JSON Schema at /type: '],
    [
      { type: 'object', properties: { path: { type: 'strin' } } },
      'input: not a valid JSON Schema at /properties/path/type: ',
    ],
    [{ type: 'object', required: 'path' }, 'input: not a valid JSON Schema at /required: '],
    [
      { type: 'object', properties: { n: { type: 'string', minLength: -1 } } },
      'input: not a valid JSON Schema at /properties/n/minLength: ',
    ],
    ['{"type": "objekt"}', 'input: not a valid JSON Schema at /type: '],
  ])('refuses %j at creation, naming where', (input, message) => {
    const make = create({ input });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });

  it("refuses another library's schema object (a class instance) rather than take it for JSON Schema", () => {
    class ZodObject {
      def = { type: 'object', shape: {} };
      type = 'object';
    }
    expect(create({ input: new ZodObject() })).toThrow(
      'input: expected a valibot, zod 4, ArkType or other Standard Schema, or a JSON Schema object, not a ZodObject',
    );
  });

  it('accepts draft 2020-12 keywords the check does not know, and checks their neighbours', () => {
    const input = {
      type: 'object',
      $defs: { n: { type: 'number' } },
      properties: { t: { prefixItems: [{ type: 'string' }] } },
    };
    expect(createActionProvider({ ...base(), input }).description.input_schema).toEqual(input);
    expect(create({ input: { ...input, properties: { t: { type: 'tuple' } } } })).toThrow('/properties/t/type');
  });
});
