/** @module test/runtime-fixtures: what in-process hosts of the conformance suite share. */
export { SCOPE, testAuth } from './helpers.ts';
export { silentLogger as silent } from '../src/index.ts';
