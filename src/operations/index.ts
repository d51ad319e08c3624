/** @module operations: every operation of the Action Provider Interface, built once per provider. */
import type { ProviderConfig } from '../options.ts';
import { createWorker, type WorkerInternals } from '../work/runner.ts';
import { type ActionsApi, actionsApi } from './actions-api.ts';
import { enumerateOperation } from './enumerate.ts';
import { cancelOperation, resumeOperation, statusOperation } from './existing.ts';
import { introspectOperation } from './introspect.ts';
import type { ActionInput, Operation } from './kernel.ts';
import { logOperation } from './log.ts';
import { releaseOperation } from './release.ts';
import { runOperation } from './run.ts';

export type { ActionInput, Operation, OperationInput } from './kernel.ts';

export interface Operations {
  introspect: Operation;
  run: Operation;
  enumerate: Operation;
  status: Operation<ActionInput>;
  cancel: Operation<ActionInput>;
  release: Operation<ActionInput>;
  resume: Operation<ActionInput>;
  log: Operation<ActionInput>;
  /** Programmatic access for background jobs and webhooks (no caller, no authorization). */
  actions: ActionsApi;
  /** Background work, when the provider has a `work` callback. */
  worker: WorkerInternals | undefined;
  /** The provider's scope: what a consent requirement is phrased in. */
  providerScope: string;
}

/** The provider's worker, its engine built now (a bad engine option throws at creation). */
function worker(config: ProviderConfig): WorkerInternals | undefined {
  const { work } = config;
  const callback = config.callbacks.work;
  if (work === undefined || callback === undefined) return undefined;
  const { settings } = work;
  const engine = work.engine({
    owner: settings.id,
    concurrency: settings.concurrency,
    lease: settings.lease,
    pollInterval: settings.pollInterval,
    clock: config.clock,
    logger: config.logger,
  });
  return createWorker(config, callback as never, settings, engine);
}

export function createOperations(config: ProviderConfig): Operations {
  const work = worker(config);
  return {
    introspect: introspectOperation(config),
    run: runOperation(config, work),
    enumerate: enumerateOperation(config),
    status: statusOperation(config, work),
    cancel: cancelOperation(config, work),
    release: releaseOperation(config),
    resume: resumeOperation(config, work),
    log: logOperation(config),
    actions: actionsApi(config, work),
    worker: work,
    providerScope: config.description.globus_auth_scope,
  };
}
