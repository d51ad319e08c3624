/**
 * @module test/multi-instance: three provider processes share one PostgreSQL database and table
 * prefix. Concurrent runs spread over them, with request_ids repeated across instances, make
 * exactly one action per (creator, request_id); every action is served and releasable by every
 * instance.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ActionClient, actionClient, type ClientReply } from '../src/testing/index.ts';
import { pool } from './support/async.ts';
import { mint, USERS, urn } from './support/identities.ts';
import { uniqueName } from './support/postgres.ts';
import { type ProviderProcess, spawnDurableProvider } from './support/processes.ts';

const INSTANCES = ['A', 'B', 'C'] as const;
const IN_FLIGHT = 100;
const GROUPS = 100; // request_ids sent once to each instance: 300 requests, 200 of them repeats
const SINGLES = 700; // request_ids sent once
const CREATORS = [USERS.creator, USERS.manager] as const;

interface Planned {
  kind: 'single' | 'repeat';
  creator: 0 | 1;
  instance: number;
  body: { request_id: string; body: { input_string: string } };
}

/** The 1,000 requests: repeated ids go to three different instances; half of the groups at once, half scattered. */
function plan(): Planned[] {
  const units: Planned[][] = [];
  for (let g = 0; g < GROUPS; g++) {
    const creator = (g % 2) as 0 | 1;
    const body = { request_id: `dup-${g}`, body: { input_string: `repeat ${g}` } };
    const copies = INSTANCES.map(
      (_n, instance): Planned => ({ kind: 'repeat', creator, instance: (instance + g) % 3, body }),
    );
    if (g < GROUPS / 2) units.push(copies);
    else units.push(...copies.map((c) => [c]));
  }
  for (let i = 0; i < SINGLES; i++) {
    // Pairs of creators share a request_id: (creator, request_id) is the key, not request_id alone.
    const body = { request_id: `one-${Math.floor(i / 2)}`, body: { input_string: `single ${i}` } };
    units.push([{ kind: 'single', creator: (i % 2) as 0 | 1, instance: i % 3, body }]);
  }
  for (let i = units.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [units[i], units[j]] = [units[j] as Planned[], units[i] as Planned[]];
  }
  return units.flat();
}

describe('three provider processes on one PostgreSQL database', () => {
  const tablePrefix = `${uniqueName('mi')}_`;
  let hosts: ProviderProcess[] = [];
  let sql: postgres.Sql;
  let tokens: string[];

  beforeAll(async () => {
    hosts = await Promise.all(
      INSTANCES.map((name) =>
        spawnDurableProvider({
          DATABASE_URL: inject('databaseUrl'),
          TABLE_PREFIX: tablePrefix,
          INSTANCE: name,
          PG_MAX: '10',
        }),
      ),
    );
    sql = postgres(inject('databaseUrl'), { max: 2, onnotice: () => {} });
    tokens = await Promise.all(CREATORS.map((id) => mint(id)));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.kill()));
    await sql?.unsafe(
      `DROP TABLE IF EXISTS ${tablePrefix}actions, ${tablePrefix}principals, ${tablePrefix}schema_migrations`,
    );
    await sql?.end();
  });

  it('makes one action per (creator, request_id) from 1,000 concurrent runs, each served, and released, by any instance', async () => {
    const requests = plan();
    expect(requests).toHaveLength(1000);
    expect(requests.filter((r) => r.kind === 'repeat')).toHaveLength(3 * GROUPS);
    /** The library's client on instance `instance` as creator `creator`. */
    const as = (instance: number, creator: 0 | 1): ActionClient =>
      actionClient((hosts[instance] as ProviderProcess).url, { token: tokens[creator] as string });

    const replies: ClientReply[] = await pool(requests, IN_FLIGHT, (r) => as(r.instance, r.creator).run(r.body));
    const unexpected = replies
      .map((reply, i) => ({ reply, i }))
      .filter(({ reply }) => reply.status !== 200 && reply.status !== 202);
    expect(unexpected.map(({ reply }) => `${reply.status} ${reply.text}`)).toEqual([]);

    // Singles: each created, by the instance it was sent to.
    const createdVia = new Map<string, { instance: number; creator: 0 | 1; said: string }>();
    requests.forEach((r, i) => {
      const reply = replies[i] as ClientReply;
      if (r.kind !== 'single') return;
      expect(reply.status).toBe(202);
      expect(reply.body).toMatchObject({
        status: 'SUCCEEDED',
        creator_id: urn(CREATORS[r.creator]),
        details: { you_said: r.body.body.input_string, via: INSTANCES[r.instance] },
      });
      createdVia.set(reply.body.action_id, {
        instance: r.instance,
        creator: r.creator,
        said: r.body.body.input_string,
      });
    });
    expect(createdVia.size).toBe(SINGLES);

    // Repeats: one 202 and two 200 per request_id, all three with the same action_id, one per instance.
    const groups = new Map<string, { instance: number; reply: ClientReply; creator: 0 | 1 }[]>();
    requests.forEach((r, i) => {
      if (r.kind !== 'repeat') return;
      const list = groups.get(r.body.request_id) ?? [];
      list.push({ instance: r.instance, reply: replies[i] as ClientReply, creator: r.creator });
      groups.set(r.body.request_id, list);
    });
    expect(groups.size).toBe(GROUPS);
    for (const [requestId, copies] of groups) {
      expect(copies.map((c) => c.instance).sort(), requestId).toEqual([0, 1, 2]);
      expect(copies.map((c) => c.reply.status).sort(), requestId).toEqual([200, 200, 202]);
      const ids = new Set(copies.map((c) => c.reply.body.action_id));
      expect(ids.size, requestId).toBe(1);
      const first = copies.find((c) => c.reply.status === 202)!;
      expect(first.reply.body).toMatchObject({
        status: 'SUCCEEDED',
        details: { you_said: `repeat ${requestId.slice(4)}` },
      });
      for (const c of copies) expect(c.reply.body.creator_id).toBe(urn(CREATORS[c.creator]));
      // A duplicate is only ever told what was acknowledged: the first run's answer, never its placeholder.
      for (const c of copies) expect(c.reply.body, requestId).toEqual(first.reply.body);
      createdVia.set(first.reply.body.action_id, {
        instance: first.instance,
        creator: first.creator,
        said: `repeat ${requestId.slice(4)}`,
      });
    }
    expect(createdVia.size).toBe(SINGLES + GROUPS);

    // The table itself: exactly one row per (creator, request_id), and exactly the acknowledged actions.
    const duplicates = await sql.unsafe(
      `SELECT creator_id, request_id, count(*)::int AS n FROM ${tablePrefix}actions GROUP BY creator_id, request_id HAVING count(*) <> 1`,
    );
    expect(duplicates).toEqual([]);
    const rows = await sql.unsafe(`SELECT action_id, creator_id, request_id, status FROM ${tablePrefix}actions`);
    expect(rows).toHaveLength(SINGLES + GROUPS);
    expect(new Set(rows.map((row) => row['action_id']))).toEqual(new Set(createdVia.keys()));
    expect(rows.every((row) => row['status'] === 'SUCCEEDED')).toBe(true);
    const principals = await sql.unsafe(
      `SELECT role, count(*)::int AS n FROM ${tablePrefix}principals p WHERE EXISTS (SELECT 1 FROM ${tablePrefix}actions a WHERE a.action_id = p.action_id) GROUP BY role ORDER BY role`,
    );
    expect(principals).toEqual([
      { role: 'creator', n: SINGLES + GROUPS },
      { role: 'manage', n: SINGLES + GROUPS },
      { role: 'monitor', n: SINGLES + GROUPS },
    ]);
    const orphans = await sql.unsafe(
      `SELECT count(*)::int AS n FROM ${tablePrefix}principals p WHERE NOT EXISTS (SELECT 1 FROM ${tablePrefix}actions a WHERE a.action_id = p.action_id)`,
    );
    expect(orphans[0]?.['n']).toBe(0);

    // Every action is readable through every instance.
    const reads = [...createdVia.entries()].flatMap(([id, meta]) =>
      [0, 1, 2].map((instance) => ({ id, meta, instance })),
    );
    const statuses = await pool(reads, IN_FLIGHT, ({ id, meta, instance }) => as(instance, meta.creator).status(id));
    statuses.forEach((reply, i) => {
      const { id, meta } = reads[i] as (typeof reads)[number];
      expect(reply.status, `${id} via ${INSTANCES[(reads[i] as (typeof reads)[number]).instance]}`).toBe(200);
      expect(reply.body).toMatchObject({
        action_id: id,
        status: 'SUCCEEDED',
        details: { you_said: meta.said, via: INSTANCES[meta.instance] },
      });
    });

    // Release through another instance than the one that created the action; then it is gone everywhere.
    const byCreator = (instance: number) =>
      [...createdVia.entries()].filter(([, m]) => m.instance === instance).slice(0, 15);
    const releases = [0, 1, 2].flatMap((instance) =>
      byCreator(instance).map(([id, meta]) => ({ id, meta, via: (instance + 1) % 3 })),
    );
    expect(releases).toHaveLength(45);
    const released = await pool(releases, 20, ({ id, meta, via }) => as(via, meta.creator).release(id));
    released.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        action_id: (releases[i] as (typeof releases)[number]).id,
        status: 'SUCCEEDED',
      });
    });
    const after = await pool(
      releases.flatMap((r) => [0, 1, 2].map((instance) => ({ ...r, instance }))),
      IN_FLIGHT,
      ({ id, meta, instance }) => as(instance, meta.creator).status(id),
    );
    for (const reply of after) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('ActionNotFound');
    }
    const again = await Promise.all(releases.map(({ id, meta, via }) => as((via + 1) % 3, meta.creator).release(id)));
    expect(again.map((r) => r.status)).toEqual(releases.map(() => 404));
    const left = await sql.unsafe(
      `SELECT count(*)::int AS n FROM ${tablePrefix}actions WHERE action_id IN (${releases.map((_r, i) => `$${i + 1}`).join(', ')})`,
      releases.map((r) => r.id),
    );
    expect(left[0]?.['n']).toBe(0);
    expect((await sql.unsafe(`SELECT count(*)::int AS n FROM ${tablePrefix}actions`))[0]?.['n']).toBe(
      SINGLES + GROUPS - releases.length,
    );
  }, 60_000);
});
