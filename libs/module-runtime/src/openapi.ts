import { INestApplication, applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FEED_REPLY_CONTENT_TYPE, ModuleName } from '@clinisync/contracts';
import { ApiErrorResponses, OpenApiSchema, serveOpenApiDocs } from '@clinisync/observability';
import { ModuleCommandErrorCode } from './module-commands.errors';

/** Serves a module service's OpenAPI document at `/api/docs-json` and Swagger UI at `/api/docs`. */
export function serveModuleDocs(app: INestApplication, module: ModuleName): void {
  serveOpenApiDocs(app, {
    title: `CliniSync ${module} module (internal)`,
    description:
      "The module's internal HTTP endpoints: sync-ingest's fallback while NATS is unreachable (same commands as over NATS), " +
      'plus health and metrics. Not routed by Kong. The caller token travels in the body and is verified by the module. ' +
      'Errors are `{"error": {"code", "message"}}` with a module command code.',
  });
}

const M = ModuleCommandErrorCode;
const caller: Record<string, OpenApiSchema> = {
  tenantId: { type: 'string' },
  correlationId: { type: 'string' },
  token: { type: 'string', description: "the caller's bearer token, forwarded by sync-ingest" },
};

/** One internal command endpoint: its body, its reply and the module filter's error statuses. */
export function ModuleCommandOperation(op: {
  summary: string;
  body: OpenApiSchema;
  reply: Record<string, OpenApiSchema>;
}): MethodDecorator {
  return applyDecorators(
    ApiTags('internal'),
    ApiOperation({ summary: op.summary }),
    ApiBody({ required: true, schema: op.body }),
    ApiResponse({
      status: 200,
      description: 'OK',
      content: Object.fromEntries(Object.entries(op.reply).map(([type, schema]) => [type, { schema }])),
    }),
    ApiErrorResponses(
      { status: 400, codes: [M.BAD_COMMAND], description: 'malformed command (not produced by sync-ingest)' },
      { status: 401, codes: [M.UNAUTHENTICATED], description: 'the forwarded token failed verification' },
      { status: 403, codes: [M.TENANT_MISMATCH], description: "the command's tenant is not the token's" },
      { status: 413, codes: [M.BAD_COMMAND], description: 'body over BODY_LIMIT_BYTES (the edge limit, 2 MiB by default)' },
      { status: 415, codes: [M.BAD_COMMAND], description: 'unsupported body encoding or charset' },
      {
        status: 503,
        codes: [M.UNAVAILABLE],
        description: 'the module failed (e.g. its database); nothing was committed',
      },
    ),
  );
}

export const ApiApplyBatch = () =>
  ModuleCommandOperation({
    summary: 'Apply a command batch (push fallback)',
    body: {
      type: 'object',
      required: ['tenantId', 'correlationId', 'token', 'commands'],
      properties: {
        ...caller,
        deviceId: { type: 'string' },
        commands: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
    reply: {
      'application/json': {
        type: 'object',
        required: ['results'],
        properties: {
          results: { type: 'array', items: { type: 'object', additionalProperties: true } },
          xid: { type: 'string' },
        },
      },
    },
  });

export const ApiFeed = () =>
  ModuleCommandOperation({
    summary: 'One feed page per entity (pull fallback)',
    body: {
      type: 'object',
      required: ['tenantId', 'correlationId', 'token', 'limit', 'entities'],
      properties: {
        ...caller,
        limit: { type: 'integer' },
        entities: {
          type: 'array',
          items: {
            type: 'object',
            required: ['entity', 'state'],
            properties: { entity: { type: 'string' }, state: { type: 'object', additionalProperties: true } },
          },
        },
      },
    },
    reply: {
      [FEED_REPLY_CONTENT_TYPE]: {
        type: 'string',
        format: 'binary',
        description: 'length-prefixed JSON header, then the record arrays',
      },
    },
  });

export const ApiRead = () =>
  ModuleCommandOperation({
    summary: 'Online-mode read (records fallback)',
    body: {
      type: 'object',
      required: ['tenantId', 'correlationId', 'token', 'entity'],
      properties: {
        ...caller,
        entity: { type: 'string' },
        id: { type: 'string' },
        filters: {
          type: 'object',
          properties: {
            patientId: { type: 'string' },
            facilityId: { type: 'string' },
            updatedSince: { type: 'string' },
          },
        },
        after: { type: 'object', properties: { updatedAt: { type: 'string' }, id: { type: 'string' } } },
        limit: { type: 'integer' },
      },
    },
    reply: {
      'application/json': {
        type: 'object',
        required: ['items', 'hasMore'],
        properties: {
          items: { type: 'array', items: { type: 'object', additionalProperties: true } },
          hasMore: { type: 'boolean' },
        },
      },
    },
  });
