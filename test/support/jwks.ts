/**
 * @module test/support/jwks: a JWKS endpoint on a real port of 127.0.0.1 for `jwtAuth`, serving
 * the test key set or, on demand, a failure (a status, a body, a hang); it counts requests and
 * stops when the test ends.
 */
import { createServer } from 'node:http';
import { exportJWK, type JSONWebKeySet } from 'jose';
import { onTestFinished } from 'vitest';
import { publicKey } from './identities.ts';

/** What the endpoint answers: the key set, a given status and body, or nothing at all. */
export type JwksAnswer = { keys: JSONWebKeySet } | { status: number; body: string } | 'hang';

export interface JwksServer {
  /** The JWKS URL. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** What the next requests get. */
  answer(answer: JwksAnswer): void;
}

/** The test key as a one-key set (ES256). */
export async function testKeySet(): Promise<JSONWebKeySet> {
  return { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }] };
}

/** Serve a JWKS (the test key set unless told otherwise) until the test ends. */
export async function startJwks(first?: JwksAnswer): Promise<JwksServer> {
  let current: JwksAnswer = first ?? { keys: await testKeySet() };
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    const answer = current;
    if (answer === 'hang') return; // never answered; closed with the server
    const [status, body] = 'keys' in answer ? [200, JSON.stringify(answer.keys)] : [answer.status, answer.body];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    answer(answer) {
      current = answer;
    },
  };
}
