import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiResponse, DocumentBuilder, type SchemaObject, SwaggerModule } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { errorBodySchema } from '@overture/gateway-contract';

const DOCS_PATH = 'docs';
const DOCS_JSON_PATH = 'docs/json';
export const BEARER_AUTH = 'access-token';

/** A zod schema as an OpenAPI 3.0 schema object (as a client sends it), for places Swagger takes a plain schema. */
export function openApiSchemaOf(schema: z.ZodType): SchemaObject {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' });
  return jsonSchema as SchemaObject;
}

/** Documents the error responses a route can give, all with the one error body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: STATUS_CODES[status], standardSchema: errorBodySchema })),
  );
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
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: DOCS_JSON_PATH, raw: ['json'] });
}
