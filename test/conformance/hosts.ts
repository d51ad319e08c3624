/**
 * @module test/conformance/hosts: moved to test/support (processes.ts, hosts.ts, identities.ts);
 * these re-exports remain only for test/bench/runtimes.ts and test/bench/auth.ts until their
 * imports are updated.
 */
export { bundleWorker, type Host, listenNode, startWorker } from '../support/hosts.ts';
export { exampleEnv } from '../support/identities.ts';
export { BIN, ROOT, spawnHost } from '../support/processes.ts';
