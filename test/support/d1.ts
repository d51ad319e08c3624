/**
 * @module test/support/d1: one D1 database in workerd (through miniflare) for a test file,
 * started when first asked for and disposed with the file's other clean-up steps.
 */
import { Miniflare } from 'miniflare';
import type { D1Like } from '../../src/store/d1.ts';

/** A function that resolves to the file's D1 binding, starting miniflare on first call; its disposal goes on `cleanup`. */
export function sharedD1(cleanup: (() => unknown)[]): () => Promise<D1Like> {
  let miniflare: Miniflare | undefined;
  return async () => {
    if (miniflare === undefined) {
      const started = new Miniflare({
        modules: true,
        script: 'export default { fetch() { return new Response() } }',
        d1Databases: ['DB'],
        compatibilityDate: '2026-04-01',
      });
      miniflare = started;
      cleanup.push(() => started.dispose());
    }
    return (await miniflare.getD1Database('DB')) as unknown as D1Like;
  };
}
