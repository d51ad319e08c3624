/**
 * @module test/log: `GET /{id}/log` and `GET /actions/{id}/log`: the page shape and its
 * defaults, limit and marker (and the pagination_token alias), 501 without a log callback.
 */
import { describe, expect, it, vi } from 'vitest';
import type { LogContext, LogPage } from '../src/index.ts';
import { runWithState as run, start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { FORMS } from './support/routes.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('log ($name)', (transport) => {
  describe.each(FORMS.log)('$name', (form) => {
    function logProvider() {
      const log = vi.fn(
        ({ limit, marker }: LogContext): LogPage => ({
          entries: [{ n: 1, limit, marker }],
          has_next_page: true,
          marker: 'next-page',
        }),
      );
      return { log, provider: testProvider({ run, log }) };
    }

    it('answers {entries, has_next_page, limit, marker} with the default limit', async () => {
      const { log, provider } = logProvider();
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        entries: [{ n: 1, limit: 10, marker: null }],
        has_next_page: true,
        limit: 10,
        marker: 'next-page',
      });
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0]?.[0]).toMatchObject({ limit: 10, marker: null });
    });

    it('passes limit and marker, and pagination_token as an alias of marker', async () => {
      const { log, provider } = logProvider();
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      const a = await form.send(connection, action.action_id, T.creator, { limit: 3, marker: 'm1' });
      expect(a.body).toMatchObject({ limit: 3, entries: [{ limit: 3, marker: 'm1' }] });
      // The client has no pagination_token (Flows sends marker): the alias goes raw.
      const b = await connection.raw('GET', `${form.path(action.action_id)}?pagination_token=p2&limit=1000`, {
        token: T.creator,
      });
      expect(b.body).toMatchObject({ limit: 1000, entries: [{ limit: 1000, marker: 'p2' }] });
      const c = await form.send(connection, action.action_id, T.creator, { limit: 1 });
      expect(c.body).toMatchObject({ limit: 1, entries: [{ marker: null }] });
      expect(log).toHaveBeenCalledTimes(3);
    });

    it('a minimal page gets has_next_page false and marker null', async () => {
      const connection = await connect(transport, testProvider({ run, log: () => ({ entries: [] }) }));
      const action = await start(connection.client(T.creator));
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.body).toEqual({ entries: [], has_next_page: false, limit: 10, marker: null });
    });

    it.each(['0', '-1', 'abc', '1.5', '1001', '', '1e9'])('limit=%s → 422', async (limit) => {
      const { log, provider } = logProvider();
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      // A number the client sends as written goes through it; any other text goes as is.
      const reply =
        String(Number(limit)) === limit
          ? await form.send(connection, action.action_id, T.creator, { limit: Number(limit) })
          : await connection.raw('GET', `${form.path(action.action_id)}?limit=${limit}`, { token: T.creator });
      expectError(reply, 422, 'RequestValidationError');
      expect(reply.body.description).toContain('limit');
      expect(log).not.toHaveBeenCalled();
    });

    it('without a log callback → 501 NotImplemented (404 for an unknown id)', async () => {
      const connection = await connect(transport, testProvider({ run }));
      const action = await start(connection.client(T.creator));
      expectError(await form.send(connection, action.action_id, T.creator), 501, 'NotImplemented');
      expectError(await form.send(connection, 'no-such-action', T.creator), 404, 'ActionNotFound');
    });

    it('a log callback that returns a malformed page → 500', async () => {
      const connection = await connect(transport, testProvider({ run, log: () => ({ entries: 'nope' }) as never }));
      const action = await start(connection.client(T.creator));
      expectError(await form.send(connection, action.action_id, T.creator), 500, 'ActionProviderError');
    });
  });
});
