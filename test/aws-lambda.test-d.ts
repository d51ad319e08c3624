/**
 * @module test/aws-lambda-types: compile-time tests of the Lambda handler, checked by
 * `tsc --noEmit`: each event type gets its own result type, and the handler fits where a
 * function of Lambda's is expected without any type package (checked against @types/aws-lambda
 * 8.10 by hand: `APIGatewayProxyHandler`, `APIGatewayProxyHandlerV2`, `LambdaFunctionURLHandler`
 * and `ALBHandler` all accept it, with and without `exactOptionalPropertyTypes`).
 */
import { expectTypeOf } from 'vitest';
import {
  type AlbEvent,
  type AlbResult,
  type ApiGatewayProxyEvent,
  type ApiGatewayProxyEventV2,
  type ApiGatewayProxyResult,
  type ApiGatewayProxyResultV2,
  type LambdaContext,
  type LambdaHttpEvent,
  type LambdaHttpResult,
  lambdaHandler,
} from '../adapters/aws-lambda.ts';
import { createActionProvider, jwtAuth } from '../src/index.ts';

const provider = createActionProvider({
  description: { title: 't', globus_auth_scope: 's', admin_contact: 'a' },
  auth: jwtAuth({ jwks: { keys: [] } }),
  run: () => ({ status: 'SUCCEEDED' }),
});
const handler = lambdaHandler(provider, { prefix: '/echo', stripStage: false });

declare const v1: ApiGatewayProxyEvent;
declare const v2: ApiGatewayProxyEventV2;
declare const alb: AlbEvent;
declare const any: LambdaHttpEvent;
declare const context: LambdaContext;
expectTypeOf(handler(v2, context)).resolves.toEqualTypeOf<ApiGatewayProxyResultV2>();
expectTypeOf(handler(v1)).resolves.toEqualTypeOf<ApiGatewayProxyResult>();
expectTypeOf(handler(alb)).resolves.toEqualTypeOf<AlbResult>();
expectTypeOf(handler(any)).resolves.toEqualTypeOf<LambdaHttpResult>();

// A handler type written the way Lambda's own are: (event, context) => Promise<result>.
type V2Handler = (
  event: ApiGatewayProxyEventV2,
  context: LambdaContext,
) => Promise<{ statusCode?: number; cookies?: string[] }>;
export const fits: V2Handler = handler;

// Any Web handler will do; the options are checked.
lambdaHandler({ fetch: () => new Response() });
// @ts-expect-error stripStage is a boolean
lambdaHandler(provider, { stripStage: 'yes' });
// @ts-expect-error no such option
lambdaHandler(provider, { basePath: '/echo' });
