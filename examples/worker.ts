/**
 * @module examples/worker: the echo provider as a Cloudflare Worker. Secrets and settings
 * arrive as bindings (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET, or JWT_JWKS; PROVIDER_SCOPE; a D1 database as DB).
 * Deploy with examples/cloudflare/wrangler.toml (README, "Deploying"); there is no dev mode on Workers.
 */
import { worker } from 'globus-action-provider/cloudflare-workers';
import { type D1Like, d1Store } from 'globus-action-provider/d1';
import { configuredAuth } from './auth.ts';
import { echoProvider } from './echo.ts';

export default worker(
  async (env: Record<string, unknown>) => {
    const mode = configuredAuth(env);
    if (!mode) throw new Error('Set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (or JWT_JWKS) as Worker secrets');
    // With a D1 binding named DB, actions are durable; without one they live in the isolate's memory.
    // Its tables come from examples/cloudflare/migrations, applied by `wrangler d1 migrations apply`
    // before a deploy, so no isolate spends its first request checking the schema (migrate: false).
    const store = env['DB'] ? await d1Store(env['DB'] as D1Like, { migrate: false }) : undefined;
    return echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}) });
  },
  { prefix: '' },
);
