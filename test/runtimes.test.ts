/**
 * @module test/runtimes: the conformance suite against every host: Node, Bun, Deno, workerd,
 * Express 5 (with and without host body parsers before the mount), a Hono host, and the AWS
 * Lambda handler behind a local server that delivers each request as an API Gateway or ALB event.
 */

import { getRequestListener } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { lambdaHandler } from '../adapters/aws-lambda.ts';
import { expressMiddleware } from '../adapters/express.ts';
import { echoProvider } from '../examples/echo.ts';
import { silentLogger as silent } from '../src/index.ts';
import { conformanceSuite } from './conformance/suite.ts';
import { D1_MIGRATIONS } from './support/d1-migrations.ts';
import { type Host, listenNode, startWorker } from './support/hosts.ts';
import { exampleEnv, SCOPE, testAuth } from './support/identities.ts';
import { type EventKind, lambdaHost } from './support/lambda.ts';
import { BIN, spawnHost, spawnNodeExample } from './support/processes.ts';

type Start = () => Promise<Host>;

const lambda =
  (kind: EventKind): Start =>
  () =>
    lambdaHost(lambdaHandler(echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent })), kind);

const expressHost =
  (parsers: express.RequestHandler[]): Start =>
  async () => {
    const app = express();
    for (const parser of parsers) app.use(parser);
    app.get('/health', (_req, res) => void res.json({ ok: true }));
    app.use('/echo', expressMiddleware(echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent })));
    return listenNode(app, '/echo');
  };

const HOSTS: [string, Start][] = [
  ['Node (examples/node.ts)', () => spawnNodeExample()],
  ['Bun (examples/bun.ts)', () => spawnHost(BIN('bun'), ['examples/bun.ts'])],
  [
    'Deno (examples/deno.ts)',
    () =>
      spawnHost(BIN('deno'), [
        'run',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        '--allow-write',
        'examples/deno.ts',
      ]),
  ],
  ['workerd (examples/worker.ts, bindings)', async () => startWorker('examples/worker.ts', await exampleEnv())],
  [
    'workerd with D1 (examples/worker.ts, migrate: false, D1 migrated by examples/cloudflare/migrations)',
    async () => startWorker('examples/worker.ts', await exampleEnv(), ['DB'], { d1Migrations: D1_MIGRATIONS }),
  ],
  [
    'Node with PostgreSQL (examples/node.ts, DATABASE_URL)',
    () => spawnNodeExample({ DATABASE_URL: inject('databaseUrl') }),
  ],
  ['Express 5, no body parser', expressHost([])],
  ['Express 5 after express.json()', expressHost([express.json()])],
  [
    'Express 5 after json, urlencoded and text parsers',
    expressHost([express.json({ type: '*/*' }), express.urlencoded({ extended: true }), express.text()]),
  ],
  ['Express 5 after express.raw()', expressHost([express.raw({ type: '*/*' })])],
  ['Express 5 (examples/express.ts)', () => spawnHost(process.execPath, ['--import', 'tsx', 'examples/express.ts'])],
  [
    'Hono host with mount()',
    async () => {
      const host = new Hono();
      host.get('/health', (c) => c.json({ ok: true }));
      host.mount('/echo', echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent }).fetch);
      return listenNode(getRequestListener(host.fetch), '/echo');
    },
  ],
  [
    'Hono host with mount() of at() (the request as it came)',
    async () => {
      const host = new Hono();
      host.get('/health', (c) => c.json({ ok: true }));
      const provider = echoProvider({ auth: testAuth(), scope: SCOPE, logger: silent });
      host.mount('/echo', provider.at('/echo'), { replaceRequest: false });
      return listenNode(getRequestListener(host.fetch), '/echo');
    },
  ],
  ['Hono host (examples/hono.ts)', () => spawnHost(process.execPath, ['--import', 'tsx', 'examples/hono.ts'])],
  ['AWS Lambda (HTTP API v2 events)', lambda('http-api-v2')],
  ['AWS Lambda (HTTP API v2 events, named stage in rawPath)', lambda('http-api-v2-stage')],
  ['AWS Lambda (REST API v1 events, stage prod, bodies base64)', lambda('rest-api')],
  ['AWS Lambda (ALB events, multi-value headers)', lambda('alb-multi-value')],
  [
    'AWS Lambda (examples/aws-lambda.ts in its own process, HTTP API v2 events, PostgreSQL)',
    () =>
      spawnHost(process.execPath, ['--import', 'tsx', 'test/fixtures/lambda-runtime.ts'], {
        DATABASE_URL: inject('databaseUrl'),
      }),
  ],
];

describe.each(HOSTS)('%s', (_name, start) => {
  let host: Host;
  beforeAll(async () => {
    host = await start();
  }, 90_000);
  afterAll(() => host?.stop());
  conformanceSuite(() => host.url);
});
