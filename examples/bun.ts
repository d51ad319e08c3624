/** @module examples/bun: the echo provider on Bun (`bun examples/bun.ts`). */
import { serve } from 'globus-action-provider/bun';
import { authFromEnv, banner } from './dev-auth.ts';
import { echoProvider } from './echo.ts';
import { storeFromEnv } from './store.ts';

const mode = await authFromEnv(process.env);
const store = await storeFromEnv(process.env);
const provider = echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}) });
const { url } = serve(provider, {
  port: Number(process.env['PORT'] ?? 8080),
  prefix: process.env['PROVIDER_PREFIX'] ?? '',
});
console.log(banner(url, mode));
