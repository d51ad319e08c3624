/**
 * @module test/fuzz/server: one fuzz target in a process of its own (`node --import tsx`), so a
 * crash is a dead child the harness can see. FUZZ_TARGET picks the store and host:
 * `memory`, `sqlite` (a file in DATA_DIR), `postgres` (DATABASE_URL) behind `serve()`, or
 * `express` / `express-json` (memory store, mounted at /ap, without / after `express.json()`).
 * It trusts the test key (`exampleEnv()`), logs warnings and errors to stderr as JSON lines
 * (each with the `x-fuzz-id` of the request it was logged for, so the harness can give a 500 its
 * cause), and prints `listening on <url>/` once it serves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { serve } from '../../adapters/node.ts';
import { type ActionStore, jwtAuth, type LogFields, type Logger, memoryStore } from '../../src/index.ts';
import { fuzzProvider } from './provider.ts';

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`fuzz server: set ${name}`);
  return value;
};
const target = required('FUZZ_TARGET');

/** The fuzz id of the request being answered: the library's logger is not told which request it logs for. */
const requestId = new AsyncLocalStorage<string>();

/** Warnings and errors as one JSON line each on stderr: the harness groups them by message. */
const line = (level: string) => (message: string, fields?: LogFields) => {
  const error = fields?.['error'] as { name?: unknown; message?: unknown } | undefined;
  const cause = error === undefined ? undefined : `${String(error.name)}: ${String(error.message)}`;
  const fuzzId = requestId.getStore();
  process.stderr.write(`${JSON.stringify({ fuzzLog: level, message, cause, fuzzId })}\n`);
};
const logger: Logger = { debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };

async function openStore(): Promise<ActionStore> {
  if (target === 'sqlite') {
    const { openSqliteStore } = await import('../../src/store/sqlite.ts');
    return openSqliteStore(join(required('DATA_DIR'), 'actions.db'), { synchronous: 'normal' });
  }
  if (target === 'postgres') {
    const { postgresStore } = await import('../../src/store/postgres.ts');
    return postgresStore({ url: required('DATABASE_URL'), max: 10 });
  }
  return memoryStore();
}

const inner = fuzzProvider({
  auth: jwtAuth({ jwks: JSON.parse(required('JWT_JWKS')) as JSONWebKeySet, issuer: required('JWT_ISSUER') }),
  store: await openStore(),
  logger,
  scope: required('PROVIDER_SCOPE'),
});

/** The provider, each request answered inside its fuzz id's context. */
const provider = {
  fetch: (request: Request, env?: unknown, context?: unknown) =>
    requestId.run(request.headers.get('x-fuzz-id') ?? '', () => inner.fetch(request, env as never, context as never)),
  sweep: () => inner.sweep(),
  close: () => inner.close(),
};

if (target.startsWith('express')) {
  const { default: express } = await import('express');
  const { expressMiddleware } = await import('../../adapters/express.ts');
  const { jsonClientErrors } = await import('../../adapters/node.ts');
  const app = express();
  if (target === 'express-json') app.use(express.json());
  app.use('/ap', expressMiddleware(provider));
  // As README advises for a host's own server: node:http's own answers in JSON too.
  const server = jsonClientErrors(
    app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      console.log(`listening on http://127.0.0.1:${port}/ap/`);
    }),
  );
} else {
  const { url } = await serve(provider, { port: 0 });
  console.log(`listening on ${url}/`);
}
