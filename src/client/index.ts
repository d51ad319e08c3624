/**
 * @module client: a typed client for any Globus Action Provider (`globus-action-provider/client`):
 * every operation over both route families, errors as `ActionProviderError` values that say
 * what the provider answered (and which Globus Auth requirement it holds), and `waitFor`, which
 * follows an action as Globus Flows does. Web-standard only: Node, Bun, Deno, Workers, browsers.
 */

export type { AuthorizationParameters, ReadGare } from '../auth/gare.ts';
export type { EnumerateRole } from '../context.ts';
export type { ProviderDescription } from '../description.ts';
export type { ActionRequestEnvelope, ActionStatus, ActionStatusValue, JsonObject, LogPage } from '../model.ts';
export {
  type ActionProviderClient,
  type ActionProviderClientOptions,
  actionProviderClient,
  type CallOptions,
  type ListPage,
  type ListPageQuery,
  type ListQuery,
  type LogQuery,
  type RunRequest,
} from './client.ts';
export {
  ActionProviderError,
  type ActionProviderErrorInit,
  type ClientErrorCode,
  isActionProviderError,
  requirementOf,
} from './errors.ts';
export type { FetchLike, RawReply, RouteFamily } from './request.ts';
export { DEFAULT_MAX_DELAY, SETTLED, type Sleep, type WaitOptions } from './wait.ts';
