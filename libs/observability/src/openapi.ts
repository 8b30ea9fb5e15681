import { INestApplication, applyDecorators } from '@nestjs/common';
import {
  ApiOperation,
  ApiResponse,
  ApiTags,
  DocumentBuilder,
  SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';

/** Where every HTTP service serves its OpenAPI 3 document and Swagger UI (not behind JWT, not routed by Kong). */
export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

export type OpenApiSchema = SchemaObject;

/**
 * The whole-request error body the services' HTTP filters write (PROTOCOL.md "Errors"):
 * `{"error": {"code", "message", "details"?}}`, `code` limited to `codes`. Extra members of
 * `error` are allowed (e.g. `serverVersion` / `serverRecord` of a stale conflict resolution).
 */
export function errorBodySchema(codes: readonly string[]): SchemaObject {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: true,
        properties: {
          code: { type: 'string', enum: [...codes] },
          message: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              required: ['path', 'message'],
              properties: { path: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}

const RETRY_AFTER = {
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' as const } },
};

/** One documented error status: its codes and what it means for this operation. */
export interface ErrorStatusDoc {
  status: number;
  codes: readonly string[];
  description: string;
  retryAfter?: boolean;
}

/** `@ApiResponse` for each error status, with the filter's error body limited to that status's codes. */
export function ApiErrorResponses(...errors: ErrorStatusDoc[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map((e) =>
      ApiResponse({
        status: e.status,
        description: e.description,
        ...(e.retryAfter ? { headers: RETRY_AFTER } : {}),
        content: { 'application/json': { schema: errorBodySchema(e.codes) } },
      }),
    ),
  );
}

/** The terminus body of `/health/*`. */
const HEALTH_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', additionalProperties: true },
    error: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
  },
};

/** Decorators of the shared health endpoints (`HealthController`). */
export function ApiHealthOperation(summary: string): MethodDecorator {
  return applyDecorators(
    ApiTags('operations'),
    ApiOperation({ summary, security: [] }),
    ApiResponse({
      status: 200,
      description: 'up (terminus format)',
      content: { 'application/json': { schema: HEALTH_SCHEMA } },
    }),
    ApiResponse({
      status: 503,
      description: 'a check failed (terminus format)',
      content: { 'application/json': { schema: HEALTH_SCHEMA } },
    }),
  );
}

/** Decorators of the shared Prometheus endpoint (`MetricsController`). */
export function ApiMetricsOperation(): MethodDecorator {
  return applyDecorators(
    ApiTags('operations'),
    ApiOperation({ summary: 'Prometheus metrics (text exposition format)', security: [] }),
    ApiResponse({
      status: 200,
      description: 'metrics',
      content: { 'text/plain': { schema: { type: 'string' } } },
    }),
  );
}

export interface OpenApiInfo {
  title: string;
  description: string;
  /** Named schemas added to `components.schemas`, for operations to `$ref` (`#/components/schemas/<name>`). */
  schemas?: Record<string, SchemaObject>;
}

/**
 * Serves the app's OpenAPI 3 document at `/api/docs-json` and Swagger UI at `/api/docs`. The
 * document is built from the controllers' explicit decorators (no CLI plugin) on first request.
 * These are plain Express routes: no guard runs on them.
 */
export function serveOpenApiDocs(app: INestApplication, info: OpenApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  const createDocument = () => {
    const document = SwaggerModule.createDocument(app, config);
    if (info.schemas) {
      document.components = { ...document.components, schemas: { ...document.components?.schemas, ...info.schemas } };
    }
    return document;
  };
  SwaggerModule.setup(OPENAPI_UI_PATH, app, createDocument, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: `${info.title} API`,
  });
}
