import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ApiResponse,
  type ApiResponseOptions,
  DocumentBuilder,
  type OpenAPIObject,
  type ParameterObject,
  type ReferenceObject,
  type ResponseObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { type AuthReason, CommonReason, GatewayReason, type MetadataReason, type PlaybackReason } from '@overture/contracts';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { errorBodySchema, IDEMPOTENCY_KEY_HEADER } from '@overture/gateway-contract';

const DOCS_PATH = 'docs';
const DOCS_JSON_PATH = 'docs/json';
export const BEARER_AUTH = 'access-token';

/** A zod schema as an OpenAPI 3.0 schema object (as a client sends it), for places Swagger takes a plain schema. */
export function openApiSchemaOf(schema: z.ZodType): SchemaObject {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' });
  return jsonSchema as SchemaObject;
}

/** A reason a client can see: the gateway's own, or one a service sends. */
type Reason = CommonReason | GatewayReason | AuthReason | MetadataReason | PlaybackReason;

/** An error response of a route: its status, alone or with the reasons only this route gives with it. */
type ApiErrorResponse = number | readonly [status: number, ...reasons: Reason[]];

// Where ApiErrors leaves a response's own reasons for setupOpenApi, which adds the shared ones and
// turns them into the `enum` of `error.reason` (the operation's method and security are known only then).
const OWN_REASONS = 'x-overture-own-reasons';

/**
 * Documents the error responses a route can give, all with the one error body. A status may carry
 * the reasons this route gives with it, e.g. `[404, MetadataReason.TRACK_NOT_FOUND]`: the document
 * lists them, and those every route of its kind gives (`sharedReasons`), as the `enum` of that
 * response's `error.reason`.
 */
export function ApiErrors(...responses: ApiErrorResponse[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...responses.map((response) => {
      const [status, ...reasons] = typeof response === 'number' ? [response] : response;
      const options: ApiResponseOptions & { [OWN_REASONS]: readonly Reason[] } = {
        status,
        description: STATUS_CODES[status],
        standardSchema: errorBodySchema,
        [OWN_REASONS]: reasons,
      };
      return ApiResponse(options);
    }),
  );
}

/**
 * The reasons every route gives with `status`, from the code all routes pass through: validation
 * and parsing, the shutdown hook, the access-token check of routes with bearer auth (at the gateway,
 * and again at the service), and the mapping of a service that is down or slow. Everything else a
 * route can answer is its own, listed in its ApiErrors. A route that takes an Idempotency-Key
 * (`idempotent`) also gives the reasons of a bad, busy or reused key.
 */
function sharedReasons(status: number, method: string, authenticated: boolean, idempotent: boolean): Reason[] {
  switch (status) {
    case 400:
      // Fastify parses a body on every method but GET and HEAD, whether the route reads one or not.
      return [
        GatewayReason.INVALID_REQUEST,
        GatewayReason.MALFORMED_REQUEST,
        ...(method === 'get' ? [] : [GatewayReason.MALFORMED_BODY]),
        ...(idempotent ? [GatewayReason.INVALID_IDEMPOTENCY_KEY] : []),
      ];
    case 401:
      return authenticated
        ? [CommonReason.UNAUTHENTICATED, CommonReason.INVALID_TOKEN, CommonReason.SESSION_REVOKED, CommonReason.ROLES_CHANGED]
        : [];
    case 403:
      return authenticated ? [CommonReason.PERMISSION_DENIED] : [];
    case 409:
      return idempotent ? [CommonReason.IDEMPOTENCY_KEY_IN_USE] : [];
    case 413:
      return [GatewayReason.PAYLOAD_TOO_LARGE];
    case 415:
      return [GatewayReason.UNSUPPORTED_MEDIA_TYPE];
    case 422:
      return idempotent ? [CommonReason.IDEMPOTENCY_KEY_REUSED] : [];
    case 503: {
      // SERVICE_UNAVAILABLE: the gateway cannot check tokens yet, or the service is down (a public
      // route that calls a service lists it as its own); *_NOT_LOADED: the service cannot check them
      // yet; DATABASE_UNAVAILABLE: the service's database is out of reach.
      const tokenChecks = [
        GatewayReason.SERVICE_UNAVAILABLE,
        CommonReason.POLICY_NOT_LOADED,
        CommonReason.KEYS_NOT_LOADED,
        CommonReason.DATABASE_UNAVAILABLE,
      ];
      return [GatewayReason.SHUTTING_DOWN, ...(authenticated ? tokenChecks : [])];
    }
    case 504:
      return [GatewayReason.DEADLINE_EXCEEDED, GatewayReason.REQUEST_TIMEOUT];
    default:
      return [];
  }
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);

/** Lists each error response's reasons, its own and the shared ones, as the `enum` of its `error.reason`. */
function listErrorReasons(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!METHODS.has(method)) continue;
      const authenticated = (operation.security ?? []).length > 0;
      const idempotent = (operation.parameters ?? []).some(
        (parameter: ParameterObject | ReferenceObject) =>
          'in' in parameter && parameter.in === 'header' && parameter.name === IDEMPOTENCY_KEY_HEADER,
      );
      const responses = Object.entries(operation.responses ?? {}) as [string, ResponseObject & { [OWN_REASONS]?: unknown }][];
      for (const [status, response] of responses) {
        const own = response[OWN_REASONS];
        if (!Array.isArray(own)) continue;
        delete response[OWN_REASONS];
        // A public route that calls a service (SERVICE_UNAVAILABLE among its own) meets its database too.
        const database = own.includes(GatewayReason.SERVICE_UNAVAILABLE) ? [CommonReason.DATABASE_UNAVAILABLE] : [];
        const reasons = [
          ...new Set([...(own as Reason[]), ...database, ...sharedReasons(Number(status), method, authenticated, idempotent)]),
        ];
        const media = response.content?.['application/json'];
        if (reasons.length === 0 || !media?.schema) continue;
        const listed: SchemaObject = {
          type: 'object',
          properties: { error: { type: 'object', properties: { reason: { type: 'string', enum: reasons } } } },
        };
        media.schema = { allOf: [media.schema, listed] };
      }
    }
  }
}

/** Builds the OpenAPI document from the controllers and serves it: Swagger UI at /docs, JSON at /docs/json. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Overture API')
    .setDescription(
      'The public REST API of Overture. JSON with snake_case fields; ids are UUIDs. Every response carries ' +
        'x-request-id (yours, if you sent a valid one). Every error is {"error": {status, reason, message, request_id}}.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_AUTH)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  listErrorReasons(document);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: DOCS_JSON_PATH, raw: ['json'] });
}
