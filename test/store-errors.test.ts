/**
 * @module test/store-errors: which store errors are a 503 and which stay a 500, the options
 * that bound the waits, the deadline that bounds every PostgreSQL call, and the limiter that
 * keeps an outage from logging a line per request.
 */
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { ActionError } from '../src/index.ts';
import { errorSignature, logLimiter } from '../src/logger.ts';
import { withDeadline } from '../src/store/deadline.ts';
import { d1Unavailable, isUnavailable, postgresUnavailable, StoreTimeoutError } from '../src/store/failures.ts';
import { type PostgresClient, postgresDriver, postgresStore } from '../src/store/postgres.ts';
import { sqlStore } from '../src/store/sql.ts';
import { sqliteStore, syncSqliteDriver } from '../src/store/sqlite.ts';
import { expectError } from './support/assertions.ts';
import { sleep } from './support/async.ts';
import { mint, USERS } from './support/identities.ts';
import { captureLogger } from './support/logger.ts';
import { testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

describe('errors that are not an unavailable database stay 500s', () => {
  it('a missing table (a store never migrated) on SQLite and PostgreSQL is a logged 500, not a 503', async () => {
    const sql = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
    try {
      const stores = [
        sqlStore(syncSqliteDriver(new Database(':memory:')), { tablePrefix: 'never_migrated_' }),
        sqlStore(postgresDriver(sql as unknown as PostgresClient), { tablePrefix: 'never_migrated_' }),
      ];
      for (const store of stores) {
        const failure = await store.get('x').catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(Error);
        expect(failure).not.toBeInstanceOf(ActionError);
        const logger = captureLogger();
        const provider = testProvider({ store, logger });
        const reply = await inProcessClient(provider, { token: await mint(USERS.creator) }).status('x');
        expectError(reply, 500, 'ActionProviderError', 'Internal Server Error');
        expect(logger.lines.map((line) => line.message)).toEqual(['unhandled error', 'request completed']);
        expect(logger.text()).toMatch(/no such table|does not exist/);
      }
    } finally {
      await sql.end();
    }
  });

  it('classifies what each database reports', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const code of [
      'ECONNREFUSED',
      'CONNECTION_CLOSED',
      'CONNECT_TIMEOUT',
      '57P01',
      '57P03',
      '53300',
      '53100',
      '25006',
      '57014',
      '08006',
    ]) {
      expect(postgresUnavailable(coded(code)), code).toBe(true);
    }
    for (const code of ['23505', '42P01', '42601', '22P02', 'ERR_INVALID_ARG_TYPE']) {
      expect(postgresUnavailable(coded(code)), code).toBe(false);
    }
    // Node's connect to a host with several addresses refusing: an AggregateError of them.
    expect(isUnavailable(new AggregateError([coded('ECONNREFUSED')]), postgresUnavailable)).toBe(true);
    expect(isUnavailable(new Error('wrapped', { cause: coded('57P01') }), postgresUnavailable)).toBe(true);
    expect(isUnavailable(new StoreTimeoutError('late'))).toBe(true);
    expect(isUnavailable(new TypeError('a bug'), postgresUnavailable)).toBe(false);
    // D1's documented transient failures are messages.
    expect(d1Unavailable(new Error('D1_ERROR: Network connection lost.'))).toBe(true);
    expect(d1Unavailable(new Error('D1 DB is overloaded. Too many requests queued.'))).toBe(true);
    expect(d1Unavailable(new Error('D1_ERROR: UNIQUE constraint failed: gap_actions.action_id'))).toBe(false);
  });
});

describe('the store options that bound the waits', () => {
  it('are validated when the store is made, with a TypeError naming the option', async () => {
    const url = inject('databaseUrl');
    for (const [options, name] of [
      [{ connectTimeout: 0 }, 'connectTimeout'],
      [{ connectTimeout: 1.5 }, 'connectTimeout'],
      [{ statementTimeout: -1 }, 'statementTimeout'],
      [{ statementTimeout: 2 ** 31 }, 'statementTimeout'],
      [{ statementTimeout: '5000' }, 'statementTimeout'],
      [{ max: 0 }, 'max'],
      [{ retryAfter: 0 }, 'retryAfter'],
    ] as const) {
      const made = postgresStore({ url, ...(options as object) });
      await expect(made).rejects.toThrow(TypeError);
      await expect(made).rejects.toThrow(new RegExp(`^${name}:`));
    }
    await expect(sqliteStore(new Database(':memory:'), { busyTimeout: -5 })).rejects.toThrow(/^busyTimeout:/);
  });

  it('statementTimeout ends a statement stuck on a lock on the server too, not only for the caller', async () => {
    const tablePrefix = `o${crypto.randomUUID().slice(0, 8)}_`;
    const store = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 1, statementTimeout: 300 });
    const admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
    const watcher = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
    const waitingOnLocks = async () =>
      Number(
        (
          await watcher.unsafe(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${tablePrefix}actions%'`,
          )
        )[0]?.['n'],
      );
    try {
      await admin.begin(async (tx) => {
        await tx.unsafe(`LOCK TABLE ${tablePrefix}actions IN ACCESS EXCLUSIVE MODE`);
        const started = performance.now();
        const failure = await store.get('x').catch((error: unknown) => error);
        expect(failure).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
        expect(performance.now() - started).toBeLessThan(1_500);
        // The server cancelled it (statement_timeout) rather than leaving it queued on the lock.
        let waiting = await waitingOnLocks();
        for (let i = 0; i < 20 && waiting > 0; i++) {
          await sleep(50);
          waiting = await waitingOnLocks();
        }
        expect(waiting).toBe(0);
      });
      expect(await store.get('x')).toBeUndefined();
    } finally {
      await admin.end();
      await watcher.end();
      await store.close?.();
    }
  });
});

describe('withDeadline', () => {
  it('answers a call that takes too long with a StoreTimeoutError at its deadline, and tells it so', async () => {
    const bounded = withDeadline({ concurrency: 2, timeout: 100, what: 'The database' });
    let abandonedSeen: boolean | undefined;
    const started = performance.now();
    const late = bounded(async (abandoned) => {
      await sleep(200);
      abandonedSeen = abandoned();
      return 'too late';
    });
    await expect(late).rejects.toThrow(new StoreTimeoutError('The database did not answer within 100 ms'));
    expect(performance.now() - started).toBeLessThan(180);
    await sleep(150);
    expect(abandonedSeen).toBe(true);
    expect(await bounded(async (abandoned) => abandoned())).toBe(false);
  });

  it('lets `concurrency` calls in at once; the others wait their turn, within their own deadline', async () => {
    const bounded = withDeadline({ concurrency: 2, timeout: 150, what: 'db' });
    let inside = 0;
    let most = 0;
    const entered: number[] = [];
    const call = (n: number, ms: number) =>
      bounded(async () => {
        entered.push(n);
        most = Math.max(most, ++inside);
        await sleep(ms);
        inside--;
        return n;
      });
    // Two hang past their deadline and keep their slots; the third waits, then times out without ever entering.
    const results = await Promise.allSettled([call(1, 400), call(2, 400), call(3, 10)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(entered).toEqual([1, 2]);
    expect(most).toBe(2);
    await sleep(300); // the hung ones end and hand their slots on
    expect(await Promise.all([call(4, 10), call(5, 10), call(6, 10)])).toEqual([4, 5, 6]);
    expect(most).toBe(2);
  });
});

describe('logLimiter', () => {
  it('admits a key once per interval and counts the rest; forgets the oldest keys beyond maxKeys', () => {
    let now = 0;
    const limiter = logLimiter({ interval: 1_000, clock: () => now, maxKeys: 2 });
    expect(limiter.admit('a')).toBe(0);
    expect(limiter.admit('a')).toBeUndefined();
    expect(limiter.admit('a')).toBeUndefined();
    now = 999;
    expect(limiter.admit('a')).toBeUndefined();
    now = 1_000;
    expect(limiter.admit('a')).toBe(3);
    expect(limiter.admit('b')).toBe(0);
    expect(limiter.admit('c')).toBe(0); // 'a' is forgotten
    expect(limiter.admit('a')).toBe(0);
    expect(limiter.admit('c')).toBeUndefined();
  });

  it('tells failures apart by each error’s name, code and message, down the causes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const unavailable = (cause: unknown) => new ActionError('ServiceUnavailable', 'down', { cause });
    expect(errorSignature(unavailable(refused))).toBe(errorSignature(unavailable(refused)));
    expect(errorSignature(unavailable(refused))).toContain('ECONNREFUSED');
    expect(errorSignature(unavailable(refused))).not.toBe(errorSignature(unavailable(new Error('disk I/O error'))));
    expect(errorSignature('a string')).toBe('a string');
  });
});

describe('a record that cannot collide', () => {
  it('keeps the one stored when a second create reuses its action_id with another request_id (a bug: 500)', async () => {
    const store = await sqliteStore(new Database(':memory:'));
    const first = record();
    await store.create(first);
    await expect(store.create(record({ action_id: first.action_id }))).rejects.not.toBeInstanceOf(ActionError);
  });
});
