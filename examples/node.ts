/**
 * @module examples/node: the echo provider on Node. With GLOBUS_CLIENT_ID and
 * GLOBUS_CLIENT_SECRET set it authenticates with Globus Auth; otherwise it runs in dev mode.
 * See README for PORT, PROVIDER_PREFIX and the GLOBUS_* variables.
 */
import { serve } from '../adapters/node.ts';
import { globusAuth, globusAuthOptionsFromEnv } from '../src/index.ts';
import { devAuth } from './dev-auth.ts';
import { ECHO_SCOPE, echoProvider } from './echo.ts';

const globus = globusAuthOptionsFromEnv(process.env);
const scope = process.env['PROVIDER_SCOPE'] ?? ECHO_SCOPE;
const dev = globus === undefined ? await devAuth() : undefined;
const provider = echoProvider({ auth: globus ? globusAuth(globus) : dev!.auth, scope });
const { url } = await serve(provider, { port: Number(process.env['PORT'] ?? 8080), prefix: process.env['PROVIDER_PREFIX'] ?? '' });

if (dev) {
  const token = await dev.mint(crypto.randomUUID(), scope);
  console.log(`
  DEV MODE: tokens are signed by a key generated at start and trusted by nobody else.
  Echo provider listening on ${url}/

  Try it:
  curl -s -X POST ${url}/run -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"request_id": "1", "body": {"input_string": "hello"}}'
`);
} else {
  console.log(`Echo provider listening on ${url}/ (Globus Auth at ${globus!.authUrl ?? globus!.environment ?? 'production'}, scope ${scope})`);
}
