/**
 * @module description: the provider description a user writes (checked once, at creation) and
 * the introspection document served at `GET /`.
 */
import * as v from 'valibot';
import { isFiniteDuration } from './duration.ts';
import { type JsonObject, PRINCIPAL_URN } from './model.ts';

const principalOr = (special: string) =>
  v.pipe(
    v.string(),
    v.check((s) => s === special || PRINCIPAL_URN.test(s), `must be "${special}" or a principal URN`),
  );
const text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

/** The `description` option; defaults are those of the Python toolkit. */
export const DescriptionSchema = v.object({
  title: text(128),
  globus_auth_scope: v.pipe(v.string(), v.minLength(1)),
  admin_contact: v.pipe(v.string(), v.minLength(1)),
  synchronous: v.optional(v.boolean(), false),
  subtitle: v.optional(text(128)),
  description: v.optional(text(4096)),
  keywords: v.optional(v.array(v.string())),
  /** Who may read the description: `public` (default) or principal URNs. */
  visible_to: v.optional(v.array(principalOr('public')), ['public']),
  /** Who may run: `all_authenticated_users` (default) or principal URNs. */
  runnable_by: v.optional(v.array(principalOr('all_authenticated_users')), ['all_authenticated_users']),
  administered_by: v.optional(v.array(v.pipe(v.string(), v.regex(PRINCIPAL_URN, 'must be a principal URN')))),
  /** The longest `deadline` accepted, as an ISO 8601 duration. Default `P30D`. */
  maximum_deadline: v.optional(
    v.pipe(v.string(), v.check(isFiniteDuration, 'must be an ISO 8601 duration a date can be added to')),
    'P30D',
  ),
  /** Further scopes a token may hold instead of `globus_auth_scope`. Not published. */
  additional_scopes: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
});

/**
 * The provider description you write; the toolkit adds the rest of the introspection document.
 * Written out for the published declarations; test/types.test-d.ts proves it equals what
 * `DescriptionSchema` takes.
 */
export interface DescriptionOptions {
  title: string;
  globus_auth_scope: string;
  admin_contact: string;
  /** Default false. */
  synchronous?: boolean | undefined;
  subtitle?: string | undefined;
  description?: string | undefined;
  keywords?: string[] | undefined;
  /** Who may read the description: `public` (default) or principal URNs. */
  visible_to?: string[] | undefined;
  /** Who may run: `all_authenticated_users` (default) or principal URNs. */
  runnable_by?: string[] | undefined;
  administered_by?: string[] | undefined;
  /** The longest `deadline` accepted, as an ISO 8601 duration. Default `P30D`. */
  maximum_deadline?: string | undefined;
  /** Further scopes a token may hold instead of `globus_auth_scope`. Not published. */
  additional_scopes?: string[] | undefined;
}

/** The introspection document served at `GET /`. */
export interface ProviderDescription {
  types: ['ACTION'];
  api_version: '1.0';
  globus_auth_scope: string;
  title: string;
  subtitle: string | null;
  description: string | null;
  keywords: string[] | null;
  visible_to: string[];
  runnable_by: string[];
  administered_by: string[] | null;
  admin_contact: string;
  synchronous: boolean;
  log_supported: boolean;
  maximum_deadline: string;
  input_schema: JsonObject;
  event_types: null;
}

/** The `description` option, checked and with its defaults. Throws a TypeError naming the field. */
export function parseDescription(options: unknown): v.InferOutput<typeof DescriptionSchema> {
  const parsed = v.safeParse(DescriptionSchema, options);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = ['description', ...(issue.path ?? []).map((item) => String(item.key))].join('.');
  throw new TypeError(`${path}: ${issue.message}`);
}

/** The introspection document for a checked description. */
export function introspectionDocument(
  d: v.InferOutput<typeof DescriptionSchema>,
  extra: { input_schema: JsonObject; log_supported: boolean },
): ProviderDescription {
  return {
    types: ['ACTION'],
    api_version: '1.0',
    globus_auth_scope: d.globus_auth_scope,
    title: d.title,
    subtitle: d.subtitle ?? null,
    description: d.description ?? null,
    keywords: d.keywords ?? null,
    visible_to: d.visible_to,
    runnable_by: d.runnable_by,
    administered_by: d.administered_by ?? null,
    admin_contact: d.admin_contact,
    synchronous: d.synchronous,
    log_supported: extra.log_supported,
    maximum_deadline: d.maximum_deadline,
    input_schema: extra.input_schema,
    event_types: null,
  };
}
