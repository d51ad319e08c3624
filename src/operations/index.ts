/** @module operations: every operation of the Action Provider Interface, built once per provider. */
import type { ProviderConfig } from '../options.ts';
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
}

export function createOperations(config: ProviderConfig): Operations {
  return {
    introspect: introspectOperation(config),
    run: runOperation(config),
    enumerate: enumerateOperation(config),
    status: statusOperation(config),
    cancel: cancelOperation(config),
    release: releaseOperation(config),
    resume: resumeOperation(config),
    log: logOperation(config),
    actions: actionsApi(config),
  };
}
