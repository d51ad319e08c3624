/**
 * @module adapters/lambda-types: the HTTP events AWS Lambda receives (API Gateway REST APIs and
 * HTTP APIs in payload 1.0 and 2.0, Lambda Function URLs, Application Load Balancers) and the
 * results each source reads, written structurally so that neither the package nor its
 * consumers need @types/aws-lambda.
 */

/**
 * A header or query map as AWS sends it (a value may be missing, the map null). Optional fields
 * also take `undefined`, so @types/aws-lambda's events fit under `exactOptionalPropertyTypes`.
 */
export type LambdaStringMap = Record<string, string | undefined>;
/** The multi-value form of the same (payload 1.0, and ALB with multi-value headers on). */
export type LambdaListMap = Record<string, string[] | undefined>;

/** The part of an API Gateway request context this adapter reads. */
export interface ApiGatewayRequestContext {
  stage?: string | undefined;
  domainName?: string | undefined;
  apiId?: string | undefined;
  /** REST APIs: the path with the stage (`/prod/run`); `path` has it without. */
  path?: string | undefined;
}

/**
 * API Gateway payload 1.0: REST APIs (no `version`), and HTTP APIs set to payload 1.0
 * (`version: '1.0'`, whose `path` keeps a named stage).
 */
export interface ApiGatewayProxyEvent {
  version?: string | undefined;
  resource?: string | undefined;
  path: string;
  httpMethod: string;
  headers?: LambdaStringMap | null | undefined;
  multiValueHeaders?: LambdaListMap | null | undefined;
  queryStringParameters?: LambdaStringMap | null | undefined;
  multiValueQueryStringParameters?: LambdaListMap | null | undefined;
  body?: string | null | undefined;
  isBase64Encoded?: boolean | undefined;
  requestContext?: ApiGatewayRequestContext | null | undefined;
}

/** API Gateway HTTP APIs with payload 2.0, and Lambda Function URLs (the same shape). */
export interface ApiGatewayProxyEventV2 {
  version: string;
  routeKey?: string | undefined;
  /** Keeps a named stage (`/live/run`); never the custom domain's API mapping key. */
  rawPath: string;
  rawQueryString?: string | undefined;
  /** The Cookie headers, one entry per cookie; `headers` has no `cookie` then. */
  cookies?: string[] | undefined;
  /** Duplicates joined with commas. */
  headers?: LambdaStringMap | undefined;
  body?: string | undefined;
  isBase64Encoded?: boolean | undefined;
  requestContext: ApiGatewayRequestContext & { http: { method: string; path?: string | undefined } };
}

/** An Application Load Balancer's request: `multiValueHeaders` when the target group turns them on. */
export interface AlbEvent {
  requestContext: { elb: { targetGroupArn: string } };
  httpMethod: string;
  path: string;
  headers?: LambdaStringMap | undefined;
  multiValueHeaders?: LambdaListMap | undefined;
  /** As the client sent them: an ALB decodes no query parameter. */
  queryStringParameters?: LambdaStringMap | undefined;
  multiValueQueryStringParameters?: LambdaListMap | undefined;
  body?: string | null | undefined;
  isBase64Encoded?: boolean | undefined;
}

export type LambdaHttpEvent = ApiGatewayProxyEvent | ApiGatewayProxyEventV2 | AlbEvent;

/** The answer to a payload 1.0 event: `multiValueHeaders` only for several Set-Cookie headers. */
export interface ApiGatewayProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** The answer to a payload 2.0 or Function URL event: each `cookies` entry becomes a Set-Cookie header. */
export interface ApiGatewayProxyResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** The answer to an ALB: headers in the form the request came in (an ALB refuses the other with a 502). */
export interface AlbResult {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

export type LambdaHttpResult = ApiGatewayProxyResult | ApiGatewayProxyResultV2 | AlbResult;

/** The result shape an event's source reads. */
export type ReplyShape = 'v1' | 'v2' | 'alb' | 'alb-multi';

/** What an event becomes: the request for the provider, or the 400 for one too malformed to make it. */
export type ReadEvent = { reply: ReplyShape; request: Request } | { reply: ReplyShape; refusal: Response };
