/**
 * @module examples/upstream/scheduler: a stand-in for the system a provider drives (a cluster's
 * batch scheduler, Globus Compute, an S3 restore): a small HTTP service where a job is submitted,
 * runs for a while and ends, and can be polled and cancelled. examples/poll-upstream.ts talks to
 * it; run it on its own with `npx tsx examples/upstream/scheduler.ts` (SCHEDULER_PORT, default 8090).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

interface Job {
  id: string;
  command: string;
  seconds: number;
  submitted: number;
  state: 'RUNNING' | 'DONE' | 'CANCELLED';
}

/** The scheduler's HTTP API: POST /jobs, GET /jobs/:id, DELETE /jobs/:id. Jobs live in memory. */
export function schedulerApp(clock: () => number = Date.now): Hono {
  const jobs = new Map<string, Job>();
  const view = (job: Job) => {
    const elapsed = (clock() - job.submitted) / 1000;
    if (job.state === 'RUNNING' && elapsed >= job.seconds) job.state = 'DONE';
    const percent = Math.min(100, Math.floor((elapsed / job.seconds) * 100));
    return { ...job, percent, ...(job.state === 'DONE' ? { output: `ran ${job.command}` } : {}) };
  };
  return new Hono()
    .post('/jobs', async (c) => {
      const { command, seconds } = await c.req.json<{ command: string; seconds: number }>();
      const job: Job = { id: crypto.randomUUID(), command, seconds, submitted: clock(), state: 'RUNNING' };
      jobs.set(job.id, job);
      return c.json(view(job), 201);
    })
    .get('/jobs/:id', (c) => {
      const job = jobs.get(c.req.param('id'));
      return job ? c.json(view(job)) : c.json({ error: 'no such job' }, 404);
    })
    .delete('/jobs/:id', (c) => {
      const job = jobs.get(c.req.param('id'));
      if (!job) return c.json({ error: 'no such job' }, 404);
      if (view(job).state === 'RUNNING') job.state = 'CANCELLED';
      return c.json(view(job));
    });
}

/** Serve the scheduler on `port` (0: a free one); resolves to its URL. */
export function startScheduler(port: number): Promise<string> {
  return new Promise((resolve) => {
    serve({ fetch: schedulerApp().fetch, port, hostname: '127.0.0.1' }, (info) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`scheduler listening on ${await startScheduler(Number(process.env['SCHEDULER_PORT'] ?? 8090))}`);
}
