/**
 * @module examples/approval: pattern (c), a human in the loop. `run` leaves the action ACTIVE,
 * "Waiting for approval", and sends an approver a signed link (here: it logs it, where a real
 * provider would email it). The link is a second route of the same host, outside the provider,
 * which completes the action through `provider.actions.update`: no background work, no polling
 * upstream; the action simply waits in the store, across restarts, for the human.
 * Run it with `npx tsx examples/approval.ts` (APPROVAL_SECRET signs the links: set it in production).
 */
import { serve } from '@hono/node-server';
import { ActionError, createActionProvider } from 'globus-action-provider';
import { Hono } from 'hono';
import * as v from 'valibot';
import { authFromEnv, banner } from './dev-auth.ts';
import { storeFromEnv } from './store.ts';

const env = process.env;
const port = Number(env['PORT'] ?? 8080);
const secret = new TextEncoder().encode(env['APPROVAL_SECRET'] ?? crypto.randomUUID());
const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
const b64url = (bytes: ArrayBuffer) => Buffer.from(bytes).toString('base64url');
/** The signature of a decision on an action: only who holds the link can make it. */
const sign = async (actionId: string, decision: string) =>
  b64url(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${actionId} ${decision}`)));
const verify = async (actionId: string, decision: string, signature: string) =>
  crypto.subtle.verify(
    'HMAC',
    key,
    Buffer.from(signature, 'base64url'),
    new TextEncoder().encode(`${actionId} ${decision}`),
  );

let base = `http://127.0.0.1:${port}`;
const mode = await authFromEnv(env);
const store = await storeFromEnv(env, 'approval');
const provider = createActionProvider({
  description: {
    title: 'Approval',
    subtitle: 'Waits for a person to approve or deny a request',
    globus_auth_scope: mode.scope,
    admin_contact: 'admin@example.org',
  },
  input: v.object({ approver: v.pipe(v.string(), v.email()), reason: v.pipe(v.string(), v.maxLength(1000)) }),
  auth: mode.auth,
  ...(store ? { store } : {}),
  run: async ({ request, actionId }) => {
    for (const decision of ['approve', 'deny']) {
      const link = `${base}/decisions/${actionId}/${decision}?sig=${await sign(actionId, decision)}`;
      console.log(`to ${request.body.approver}: ${decision} "${request.body.reason}": POST ${link}`);
    }
    return { status: 'ACTIVE', display_status: 'Waiting for approval', details: { approver: request.body.approver } };
  },
});

const host = new Hono();
host.mount('/approval', provider.at('/approval'), { replaceRequest: false });
// The approver's route: not part of the Action Provider Interface, so not under the provider.
host.post('/decisions/:id/:decision', async (c) => {
  const { id, decision } = c.req.param();
  const signature = c.req.query('sig') ?? '';
  if ((decision !== 'approve' && decision !== 'deny') || !(await verify(id, decision, signature).catch(() => false))) {
    return c.json({ code: 'ForbiddenRequest', description: 'Not a valid decision link' }, 403);
  }
  try {
    const action = await provider.actions.update(id, {
      status: decision === 'approve' ? 'SUCCEEDED' : 'FAILED',
      display_status: decision === 'approve' ? 'Approved' : 'Denied',
      details:
        decision === 'approve'
          ? { decision: 'approved' }
          : { code: 'ApprovalDenied', description: 'The approver denied the request', decision: 'denied' },
    });
    return c.json({ action_id: id, status: action.status });
  } catch (error) {
    // Already decided (a completed action is final), or released: say so, do not change it.
    if (error instanceof ActionError) return c.json(error.toJSON(), error.status);
    throw error;
  }
});

serve({ fetch: host.fetch, port, hostname: env['HOST'] ?? '127.0.0.1' }, (info) => {
  base = `http://127.0.0.1:${info.port}`;
  console.log(banner(`${base}/approval`, mode, 'Approval provider', { approver: 'pi@example.org', reason: 'Publish' }));
});
