/** @module check/steps/ids: the request ids the checker sends, recognisable in a provider's logs. */

/** A fresh `request_id`: `globus-action-provider-check-<uuid>`. */
export const newRequestId = (): string => `globus-action-provider-check-${crypto.randomUUID()}`;
