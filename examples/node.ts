/** @module examples/node: the echo provider on Node, in dev mode (see README for PORT and PROVIDER_PREFIX). */
import { serve } from '../adapters/node.ts';
import { devAuth } from './dev-auth.ts';
import { ECHO_SCOPE, echoProvider } from './echo.ts';

const dev = await devAuth();
const provider = echoProvider({ auth: dev.auth });
const { url } = await serve(provider, { port: Number(process.env['PORT'] ?? 8080), prefix: process.env['PROVIDER_PREFIX'] ?? '' });
const token = await dev.mint(crypto.randomUUID(), ECHO_SCOPE);

console.log(`
  DEV MODE: tokens are signed by a key generated at start and trusted by nobody else.
  Echo provider listening on ${url}/

  Try it:
  curl -s -X POST ${url}/run -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"request_id": "1", "body": {"input_string": "hello"}}'
`);
