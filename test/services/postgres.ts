/**
 * @module test/services/postgres: moved to test/support/postgres.ts; this re-export remains only
 * for test/bench/stores.ts until its import is updated.
 */
export { type PostgresServer, startPostgres } from '../support/postgres.ts';
