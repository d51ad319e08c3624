/**
 * @module examples/poll-upstream: pattern (b), no background work at all. The work happens in
 * another system (here examples/upstream/scheduler.ts, started in-process unless SCHEDULER_URL
 * names one); `run` submits a job and keeps its id in the action's private `state`, and each
 * `status` call polls the job and answers what it says. Nothing runs between polls, so there is
 * nothing to lose in a restart: Flows' own polling drives it. `cancel` cancels the job and
 * `release` is where an upstream record would be cleaned up.
 * Run it with `npx tsx examples/poll-upstream.ts` and ask for `{"command": "simulate", "seconds": 20}`.
 */
import { ActionError, type ActionUpdate, createActionProvider } from 'globus-action-provider';
import { serve } from 'globus-action-provider/node';
import * as v from 'valibot';
import { authFromEnv, banner } from './dev-auth.ts';
import { storeFromEnv } from './store.ts';
import { startScheduler } from './upstream/scheduler.ts';

const env = process.env;
const scheduler = env['SCHEDULER_URL'] ?? (await startScheduler(0));

interface Job {
  id: string;
  state: 'RUNNING' | 'DONE' | 'CANCELLED';
  percent: number;
  output?: string;
}

/** One call to the scheduler, bounded: an upstream that hangs must not hold the request. */
async function call(path: string, init: RequestInit = {}): Promise<Job> {
  let response: Response;
  try {
    response = await fetch(`${scheduler}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new ActionError('ServiceUnavailable', 'The scheduler is not answering; try again', { cause: error });
  }
  if (!response.ok) throw new ActionError('ServiceUnavailable', `The scheduler answered ${response.status}`);
  return (await response.json()) as Job;
}

/** The action's status for the job's state. */
function asUpdate(job: Job): ActionUpdate {
  if (job.state === 'DONE') return { status: 'SUCCEEDED', details: { job_id: job.id, output: job.output } };
  if (job.state === 'CANCELLED') {
    return {
      status: 'FAILED',
      details: { code: 'ActionCanceled', description: 'The job was cancelled', job_id: job.id },
    };
  }
  return {
    status: 'ACTIVE',
    display_status: `Running (${job.percent}%)`,
    details: { job_id: job.id, percent: job.percent },
  };
}

const jobOf = (state: unknown) => String((state as { jobId?: unknown } | null)?.jobId);

const mode = await authFromEnv(env);
const store = await storeFromEnv(env, 'poll-upstream');
const provider = createActionProvider({
  description: {
    title: 'Batch jobs',
    subtitle: 'Runs a job on the scheduler and reports on it',
    globus_auth_scope: mode.scope,
    admin_contact: 'admin@example.org',
  },
  input: v.object({ command: v.string(), seconds: v.pipe(v.number(), v.minValue(0), v.maxValue(86_400)) }),
  auth: mode.auth,
  ...(store ? { store } : {}),
  run: async ({ request }) => {
    const job = await call('/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.body),
    });
    return { ...asUpdate(job), state: { jobId: job.id } };
  },
  status: async ({ action }) => asUpdate(await call(`/jobs/${jobOf(action.state)}`)),
  cancel: async ({ action }) => asUpdate(await call(`/jobs/${jobOf(action.state)}`, { method: 'DELETE' })),
});

const { url } = await serve(provider, { port: Number(env['PORT'] ?? 8080), prefix: env['PROVIDER_PREFIX'] ?? '' });
console.log(banner(url, mode, 'Batch jobs provider', { command: 'simulate', seconds: 20 }));
