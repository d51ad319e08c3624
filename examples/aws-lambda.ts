/**
 * @module examples/aws-lambda: the echo provider as an AWS Lambda handler, for API Gateway
 * (REST or HTTP API), a Function URL or an ALB. Settings arrive as environment variables
 * (GLOBUS_CLIENT_ID / GLOBUS_CLIENT_SECRET, or JWT_JWKS; PROVIDER_SCOPE; PROVIDER_PREFIX for a
 * REST API's custom domain base path) and DATABASE_URL for PostgreSQL, since Lambda instances
 * share nothing: actions kept in one instance's memory are gone for the next. Bundle it (esbuild
 * `--platform=node --format=esm`) and set the handler to `aws-lambda.handler`.
 */
import { lambdaHandler } from 'globus-action-provider/aws-lambda';
import { configuredAuth } from './auth.ts';
import { echoProvider } from './echo.ts';

const mode = configuredAuth(process.env);
if (!mode) throw new Error('Set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (or JWT_JWKS) in the function environment');
// Built once per instance (the module's init), reused by every invocation it serves.
const url = process.env['DATABASE_URL'];
const store = url ? await (await import('globus-action-provider/postgres')).postgresStore({ url }) : undefined;
const provider = echoProvider({ auth: mode.auth, scope: mode.scope, ...(store ? { store } : {}) });

export const handler = lambdaHandler(provider, { prefix: process.env['PROVIDER_PREFIX'] ?? '' });
