/**
 * @module examples/worker: the echo provider as a Cloudflare Worker. Secrets and settings
 * arrive as bindings (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET, or JWT_JWKS; PROVIDER_SCOPE; a D1
 * database as DB; the Durable Object namespace of background work as ACTION_WORK). Deploy with
 * examples/cloudflare/wrangler.toml (README, "Deploying"); there is no dev mode on Workers.
 */
import { actionWorkObject, worker } from 'globus-action-provider/cloudflare-workers';
import { type D1Like, type DurableObjectNamespaceLike, d1Store } from 'globus-action-provider/d1';
import { configuredAuth } from './auth.ts';
import { echoProvider } from './echo.ts';

/** The provider, built once per isolate by the Worker and once per Durable Object by `ActionWork`. */
async function build(env: Record<string, unknown>) {
  const mode = configuredAuth(env);
  if (!mode) throw new Error('Set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (or JWT_JWKS) as Worker secrets');
  // With a D1 binding named DB, actions are durable; without one they live in the isolate's memory.
  // Its tables come from examples/cloudflare/migrations, applied by `wrangler d1 migrations apply`
  // before a deploy, so no isolate spends its first request checking the schema (migrate: false).
  // With ACTION_WORK as well, the echo is background work, run by the action's own Durable Object.
  const db = env['DB'] as D1Like | undefined;
  const work = db ? (env['ACTION_WORK'] as DurableObjectNamespaceLike | undefined) : undefined;
  const store = db ? await d1Store(db, { migrate: false, ...(work ? { work } : {}) }) : undefined;
  return echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}), background: !!work });
}

export default worker(build, { prefix: '' });

/** The class of the ACTION_WORK binding (wrangler.toml): one object per action runs its work, woken by its alarm. */
export class ActionWork extends actionWorkObject(build) {}
