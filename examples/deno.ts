/** @module examples/deno: the echo provider on Deno (`deno run --allow-net --allow-env --allow-read --allow-write examples/deno.ts`). */
import { serve } from 'globus-action-provider/deno';
import { authFromEnv, banner } from './dev-auth.ts';
import { echoProvider } from './echo.ts';
import { storeFromEnv } from './store.ts';

declare const Deno: { env: { toObject(): Record<string, string> } };
const env = Deno.env.toObject();
const mode = await authFromEnv(env);
const store = await storeFromEnv(env);
const provider = echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}) });
const { url } = serve(provider, { port: Number(env['PORT'] ?? 8080), prefix: env['PROVIDER_PREFIX'] ?? '' });
console.log(banner(url, mode));
