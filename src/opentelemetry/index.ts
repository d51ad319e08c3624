/**
 * @module opentelemetry: traces and metrics of a provider through `@opentelemetry/api` (an
 * optional peer dependency): `createActionProvider({ ..., telemetry: openTelemetry() })`.
 */
export { type OpenTelemetryOptions, openTelemetry } from './open-telemetry.ts';
