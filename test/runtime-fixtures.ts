/** @module test/runtime-fixtures: what in-process hosts of the conformance suite share. */

export { silentLogger as silent } from '../src/index.ts';
export { SCOPE, testAuth } from './helpers.ts';
