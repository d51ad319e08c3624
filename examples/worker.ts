/**
 * @module examples/worker: the echo provider as a Cloudflare Worker. Secrets and settings
 * arrive as bindings (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET, or JWT_JWKS; PROVIDER_SCOPE).
 * Build with esbuild or `wrangler deploy`; there is no dev mode on Workers.
 */
import { worker } from '../adapters/cloudflare-workers.ts';
import { authFromEnv } from './auth.ts';
import { echoProvider } from './echo.ts';

export default worker(async (env: Record<string, unknown>) => {
  if (!env['GLOBUS_CLIENT_ID'] && !env['JWT_JWKS']) throw new Error('Set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (or JWT_JWKS) as Worker secrets');
  const mode = await authFromEnv(env);
  return echoProvider({ auth: mode.auth, scope: mode.scope });
}, { prefix: '' });
