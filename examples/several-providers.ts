/**
 * @module examples/several-providers: three providers behind one Globus Auth client, as Globus's
 * own hosted providers are: one resource server, one scope per provider. They share one
 * authenticator (one introspection per token, whichever provider it calls; each provider
 * accepts only its own scope) and one database (a table prefix each), and each has a prefix of
 * its own on one host. Served by examples/several.ts.
 */
import type { ActionProvider, ActionStore, Authenticator } from 'globus-action-provider';
import { Hono } from 'hono';
import { echoProvider } from './echo.ts';

/** Where each provider lives, its title and the variable naming its scope. */
export const PROVIDERS = [
  { prefix: '/echo', title: 'Echo', scopeVariable: 'ECHO_SCOPE', table: 'echo_' },
  { prefix: '/archive', title: 'Archive echo', scopeVariable: 'ARCHIVE_SCOPE', table: 'archive_' },
  { prefix: '/compute', title: 'Compute echo', scopeVariable: 'COMPUTE_SCOPE', table: 'compute_' },
] as const;

/** The placeholder scope of a provider when its variable is unset. */
export const placeholderScope = (n: number) =>
  `https://auth.globus.org/scopes/00000000-0000-4000-8000-00000000000${n + 1}/action_all`;

export interface SeveralOptions {
  /** The one authenticator all three share. */
  auth: Authenticator;
  /** A store per provider, by its table prefix (one database, three prefixes). */
  store: (tablePrefix: string) => Promise<ActionStore | undefined>;
  scopes: readonly string[];
}

/** The three providers and a Hono host mounting each under its prefix. */
export async function severalProviders(options: SeveralOptions): Promise<{ host: Hono; providers: ActionProvider[] }> {
  const host = new Hono();
  const providers: ActionProvider[] = [];
  for (const [i, spec] of PROVIDERS.entries()) {
    const store = await options.store(spec.table);
    const provider = echoProvider({
      auth: options.auth,
      title: spec.title,
      scope: options.scopes[i] ?? placeholderScope(i),
      ...(store ? { store } : {}),
    });
    host.mount(spec.prefix, provider.at(spec.prefix), { replaceRequest: false });
    providers.push(provider);
  }
  // Anything else is the providers' JSON 404, not Hono's plain text.
  host.notFound(() => Response.json({ code: 'ActionNotFound', description: 'No such route' }, { status: 404 }));
  return { host, providers };
}
