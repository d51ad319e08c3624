/**
 * @module examples/node: the echo provider on Node (`npm start`). PORT, PROVIDER_PREFIX and auth
 * variables: see README; HOST (default 127.0.0.1) is the address to listen on, 0.0.0.0 in a container.
 */
import { serve } from 'globus-action-provider/node';
import { authFromEnv, banner } from './dev-auth.ts';
import { echoProvider } from './echo.ts';
import { storeFromEnv } from './store.ts';

const mode = await authFromEnv(process.env);
const store = await storeFromEnv(process.env);
const provider = echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}) });
const { url } = await serve(provider, {
  port: Number(process.env['PORT'] ?? 8080),
  ...(process.env['HOST'] ? { hostname: process.env['HOST'] } : {}),
  prefix: process.env['PROVIDER_PREFIX'] ?? '',
});
console.log(banner(url, mode));
