import { INestApplication, applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiErrorCode,
  DEFAULT_PULL_LIMIT,
  MAX_MUTATIONS_PER_PUSH,
  MAX_PULL_LIMIT,
  MUTATION_OPS,
  MutationRejectCode,
} from '@clinisync/contracts';
import { DataShape, ENTITIES, entityDataSchema } from '@clinisync/sync-core';
import { ApiErrorResponses, ErrorStatusDoc, OpenApiSchema, serveOpenApiDocs } from '@clinisync/observability';

/** Serves sync-ingest's OpenAPI document at `/api/docs-json` and Swagger UI at `/api/docs`. */
export function serveSyncIngestDocs(app: INestApplication): void {
  serveOpenApiDocs(app, {
    title: 'CliniSync sync-ingest',
    description:
      'The edge API of PROTOCOL.md: push, pull, conflicts, online-mode reads and the single-operation queue. ' +
      'Every /api/v1 call needs `Authorization: Bearer <JWT>`. Errors are `{"error": {"code", "message", "details"?}}`. ' +
      'Any route also answers 400 `VALIDATION_FAILED` for a malformed JSON body (or one that does not inflate), 413 `PAYLOAD_TOO_LARGE` above BODY_LIMIT_BYTES ' +
      '(counted after inflating) and 415 `UNSUPPORTED_ENCODING` for a `Content-Encoding` other than gzip, br, deflate or identity. ' +
      'Answers of 1 KiB or more are compressed per `Accept-Encoding` (br, gzip).',
    schemas: ENTITY_DATA_SCHEMAS,
  });
}

const C = ApiErrorCode;
const ENTITY_NAMES = ENTITIES.map((e) => e.name);

/** Component name of an entity's generated data schema, e.g. `ClinicalNotesCreateData`. */
const dataSchemaName = (entity: string, shape: DataShape) =>
  `${entity.replace(/(^|_)([a-z])/g, (_m, _sep: string, c: string) => c.toUpperCase())}${shape === 'create' ? 'Create' : 'Update'}Data`;

/** The JSON Schemas of a mutation's `data` that sync-core generates from the entity registry (and validates with). */
const ENTITY_DATA_SCHEMAS: Record<string, OpenApiSchema> = Object.fromEntries(
  ENTITIES.flatMap((e) =>
    (['create', 'update'] as const).map((shape) => [dataSchemaName(e.name, shape), structuredClone(entityDataSchema(e, shape))]),
  ),
);

/** Error statuses every /api/v1 operation of sync-ingest can answer. */
const COMMON: ErrorStatusDoc[] = [
  {
    status: 401,
    codes: [C.UNAUTHENTICATED],
    description: 'missing, malformed, expired or untrusted bearer token',
  },
  {
    status: 413,
    codes: [C.PAYLOAD_TOO_LARGE],
    description: 'request body over BODY_LIMIT_BYTES (after inflating)',
  },
  {
    status: 415,
    codes: [C.UNSUPPORTED_ENCODING],
    description: 'request body in a Content-Encoding other than gzip, br, deflate or identity',
  },
  {
    status: 429,
    codes: [C.RATE_LIMITED],
    description: 'admission control or Kong rate limiting; retry after Retry-After',
    retryAfter: true,
  },
  {
    status: 500,
    codes: [C.INTERNAL],
    description: 'unexpected failure (never caused by input; no internals)',
  },
  {
    status: 503,
    codes: [C.UNAVAILABLE],
    description: 'the database or the owning module is unavailable; retry after Retry-After',
    retryAfter: true,
  },
];

const bad = (description: string, codes: readonly string[] = [C.VALIDATION_FAILED]): ErrorStatusDoc => ({
  status: 400,
  codes,
  description,
});
const forbidden = (description: string, codes: readonly string[]): ErrorStatusDoc => ({
  status: 403,
  codes,
  description,
});
const notFound = (description: string): ErrorStatusDoc => ({
  status: 404,
  codes: [C.NOT_FOUND],
  description,
});
const conflict = (
  description: string,
  codes: readonly string[] = [C.CONFLICT],
  retryAfter = false,
): ErrorStatusDoc => ({ status: 409, codes, description, retryAfter });

/** The controller-level decorators of an authenticated sync-ingest controller. */
export function SyncIngestApi(tag: string): ClassDecorator {
  return applyDecorators(ApiTags(tag), ApiBearerAuth('bearer'));
}

/** One documented operation: summary, success response and its error statuses (plus the common ones). */
export function SyncIngestOperation(op: {
  summary: string;
  status: number;
  description: string;
  schema: OpenApiSchema;
  errors: ErrorStatusDoc[];
}): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: op.summary }),
    ApiHeader({
      name: 'X-Correlation-Id',
      required: false,
      description: 'echoed back; generated when absent',
    }),
    ApiResponse({
      status: op.status,
      description: op.description,
      content: { 'application/json': { schema: op.schema } },
    }),
    ApiErrorResponses(...op.errors, ...COMMON),
  );
}

const uuid: OpenApiSchema = { type: 'string', format: 'uuid' };
const anyObject: OpenApiSchema = { type: 'object', additionalProperties: true };
const syncRecord: OpenApiSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'version'],
  properties: {
    id: uuid,
    version: { type: 'integer' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    deletedAt: { type: 'string', nullable: true },
  },
  description: 'a record as the wire JSON of its entity (camelCase fields)',
};
const deviceIdHeader = ApiHeader({
  name: 'X-Device-Id',
  required: false,
  description: 'the installation (or `deviceId` in the body)',
});
const limitQuery = (max: number, dflt: number) =>
  ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: max, default: dflt },
    description: `1 to ${max}; anything else is 400 VALIDATION_FAILED`,
  });
const cursorQuery = (description: string) =>
  ApiQuery({ name: 'cursor', required: false, schema: { type: 'string' }, description });

// ---- push ----------------------------------------------------------------------------------

const mutationSchema: OpenApiSchema = {
  type: 'object',
  required: ['clientMutationId', 'entity', 'op', 'id'],
  additionalProperties: false,
  properties: {
    clientMutationId: {
      ...uuid,
      description: 'idempotency key, unique per tenant forever; compared case-insensitively',
    },
    entity: { type: 'string', enum: ENTITY_NAMES },
    op: { type: 'string', enum: [...MUTATION_OPS] },
    id: { ...uuid, description: 'client-generated record id' },
    baseVersion: { type: 'integer', minimum: 1, description: 'required for update and delete' },
    data: {
      type: 'object',
      description:
        "the entity's fields (camelCase), checked against the JSON Schema generated from the entity registry: " +
        '`<Entity>CreateData` for a create, `<Entity>UpdateData` for an update (e.g. `PatientsCreateData`); ' +
        'a field that breaks it is 400 VALIDATION_FAILED at `mutations[i].data.<field>`',
      anyOf: Object.keys(ENTITY_DATA_SCHEMAS).map((name) => ({ $ref: `#/components/schemas/${name}` })),
    },
    changedFields: { type: 'array', items: { type: 'string' }, description: 'defaults to the keys of data' },
    occurredAt: { type: 'string', format: 'date-time' },
  },
};

const resultSchema: OpenApiSchema = {
  type: 'object',
  required: ['clientMutationId', 'status', 'id'],
  additionalProperties: true,
  properties: {
    clientMutationId: uuid,
    status: { type: 'string', enum: ['applied', 'merged', 'conflict', 'rejected'] },
    id: uuid,
    version: { type: 'integer' },
    record: syncRecord,
    conflictId: uuid,
    serverVersion: { type: 'integer' },
    conflictingFields: { type: 'array', items: { type: 'string' } },
    serverRecord: syncRecord,
    code: { type: 'string', enum: Object.values(MutationRejectCode) },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    replayed: { type: 'boolean', enum: [true] },
  },
};

export const ApiPush = () =>
  applyDecorators(
    deviceIdHeader,
    ApiBody({
      required: true,
      schema: {
        type: 'object',
        required: ['mutations'],
        additionalProperties: false,
        properties: {
          deviceId: { type: 'string', maxLength: 200 },
          tenantId: {
            type: 'string',
            description: "only the token's tenant is accepted (else 403 TENANT_MISMATCH)",
          },
          mutations: { type: 'array', minItems: 1, maxItems: MAX_MUTATIONS_PER_PUSH, items: mutationSchema },
        },
      },
    }),
    SyncIngestOperation({
      summary: 'Push a batch of mutations (PROTOCOL.md "Push")',
      status: 200,
      description: 'one result per mutation, same order',
      schema: {
        type: 'object',
        required: ['results', 'serverTime'],
        properties: {
          results: { type: 'array', items: resultSchema },
          serverTime: { type: 'string', format: 'date-time' },
          checkpoint: { type: 'string' },
        },
      },
      errors: [
        bad(
          'body is not a JSON object, a mutation is malformed, or a key appears twice (any spelling); nothing stored',
        ),
        forbidden("the body or a mutation's data names another tenant", [C.TENANT_MISMATCH]),
        conflict(
          'another request is applying one of these keys right now; retry after Retry-After',
          [C.IDEMPOTENCY_IN_FLIGHT],
          true,
        ),
      ],
    }),
  );

// ---- pull ----------------------------------------------------------------------------------

const changesSchema: OpenApiSchema = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['created', 'updated', 'deleted'],
    properties: {
      created: { type: 'array', items: syncRecord },
      updated: { type: 'array', items: syncRecord },
      deleted: { type: 'array', items: uuid },
    },
  },
};

export const ApiPull = () =>
  applyDecorators(
    cursorQuery('opaque cursor of the previous page; omit for a first sync'),
    ApiQuery({
      name: 'checkpoint',
      required: false,
      schema: { type: 'string' },
      description: "a push answer's checkpoint (read-your-writes)",
    }),
    limitQuery(MAX_PULL_LIMIT, DEFAULT_PULL_LIMIT),
    ApiQuery({
      name: 'entities',
      required: false,
      schema: { type: 'string' },
      description: `comma-separated entity names (default all): ${ENTITY_NAMES.join(', ')}`,
    }),
    ApiQuery({
      name: 'tenantId',
      required: false,
      schema: { type: 'string' },
      description: "only the token's tenant is accepted",
    }),
    SyncIngestOperation({
      summary: 'Pull changes since a cursor (PROTOCOL.md "Pull")',
      status: 200,
      description: 'WatermelonDB-shaped changes',
      schema: {
        type: 'object',
        required: ['changes', 'cursor', 'hasMore', 'serverTime'],
        properties: {
          changes: changesSchema,
          cursor: { type: 'string' },
          hasMore: { type: 'boolean' },
          serverTime: { type: 'string', format: 'date-time' },
        },
      },
      errors: [
        bad(
          'bad limit, unknown entity (VALIDATION_FAILED); tampered, malformed or foreign cursor or checkpoint (INVALID_CURSOR)',
          [C.VALIDATION_FAILED, C.INVALID_CURSOR],
        ),
        forbidden('the tenantId parameter is not the token tenant', [C.TENANT_MISMATCH]),
      ],
    }),
  );

// ---- conflicts -----------------------------------------------------------------------------

const conflictView: OpenApiSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: uuid,
    status: { type: 'string', enum: ['open', 'manual_review', 'resolved'] },
    entity: { type: 'string' },
    recordId: uuid,
    clientMutationId: uuid,
    facilityId: { type: 'string', nullable: true },
    patientId: { type: 'string', nullable: true },
    baseVersion: { type: 'integer', nullable: true },
    serverVersion: { type: 'integer' },
    changedFields: { type: 'array', items: { type: 'string' } },
    conflictingFields: { type: 'array', items: { type: 'string' } },
    clientPayload: anyObject,
    serverRecord: syncRecord,
  },
};
const page = (items: OpenApiSchema): OpenApiSchema => ({
  type: 'object',
  required: ['items', 'cursor'],
  properties: { items: { type: 'array', items }, cursor: { type: 'string', nullable: true } },
});
const resolveResponse: OpenApiSchema = {
  type: 'object',
  required: ['conflictId', 'status', 'resolution', 'id'],
  properties: {
    conflictId: uuid,
    status: { type: 'string', enum: ['open', 'manual_review', 'resolved'] },
    resolution: { type: 'string', enum: ['client_wins', 'server_wins', 'merge', 'manual_review'] },
    id: uuid,
    version: { type: 'integer' },
    record: syncRecord,
  },
};

export const ApiListConflicts = () =>
  applyDecorators(
    ApiQuery({
      name: 'status',
      required: false,
      schema: { type: 'string', enum: ['open', 'manual_review', 'resolved'], default: 'open' },
    }),
    ApiQuery({ name: 'entity', required: false, schema: { type: 'string' } }),
    ApiQuery({ name: 'recordId', required: false, schema: { type: 'string' } }),
    cursorQuery('keyset cursor of the previous page'),
    limitQuery(1000, 100),
    SyncIngestOperation({
      summary: 'The conflicts the caller may resolve',
      status: 200,
      description: 'a page of conflicts',
      schema: page(conflictView),
      errors: [
        bad('bad status or limit (VALIDATION_FAILED); malformed cursor (INVALID_CURSOR)', [
          C.VALIDATION_FAILED,
          C.INVALID_CURSOR,
        ]),
      ],
    }),
  );

export const ApiResolveConflict = () =>
  applyDecorators(
    deviceIdHeader,
    ApiParam({ name: 'conflictId', schema: uuid }),
    ApiBody({
      required: true,
      schema: {
        type: 'object',
        required: ['resolution'],
        properties: {
          resolution: { type: 'string', enum: ['client_wins', 'server_wins', 'merge', 'manual_review'] },
          data: { ...anyObject, description: 'only (and required) for merge' },
          reason: { type: 'string' },
        },
      },
    }),
    SyncIngestOperation({
      summary: 'Resolve a conflict (PROTOCOL.md "Conflicts")',
      status: 200,
      description: 'the new record version',
      schema: resolveResponse,
      errors: [
        bad('bad resolution, data or reason, or invalid merge data'),
        forbidden('the caller may not resolve this conflict (audited)', [C.FORBIDDEN]),
        notFound('unknown, non-UUID or another tenant conflict id'),
        conflict(
          'already resolved, stale (error.serverVersion / error.serverRecord carry the new state) or refused by the module',
        ),
      ],
    }),
  );

// ---- online-mode reads ---------------------------------------------------------------------

const entityParam = ApiParam({ name: 'entity', schema: { type: 'string', enum: ENTITY_NAMES } });

export const ApiListRecords = () =>
  applyDecorators(
    entityParam,
    ApiQuery({ name: 'patientId', required: false, schema: uuid }),
    ApiQuery({ name: 'facilityId', required: false, schema: { type: 'string' } }),
    ApiQuery({ name: 'updatedSince', required: false, schema: { type: 'string', format: 'date-time' } }),
    cursorQuery('keyset cursor of the previous page'),
    limitQuery(1000, 100),
    SyncIngestOperation({
      summary: 'List records of an entity (online mode)',
      status: 200,
      description: 'a page of records the caller may read',
      schema: page(syncRecord),
      errors: [
        bad('bad patientId, updatedSince or limit (VALIDATION_FAILED); malformed cursor (INVALID_CURSOR)', [
          C.VALIDATION_FAILED,
          C.INVALID_CURSOR,
        ]),
        notFound('unknown entity'),
      ],
    }),
  );

export const ApiGetRecord = () =>
  applyDecorators(
    entityParam,
    ApiParam({ name: 'id', schema: uuid }),
    SyncIngestOperation({
      summary: 'One record (online mode)',
      status: 200,
      description: 'the record',
      schema: syncRecord,
      errors: [
        bad('malformed JSON body'),
        notFound(
          'missing, deleted, of another tenant, outside the caller facilities or not readable by its role (indistinguishable)',
        ),
      ],
    }),
  );

// ---- single-operation queue ----------------------------------------------------------------

const queueItem: OpenApiSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: uuid,
    status: { type: 'string', enum: ['PENDING', 'SYNCED', 'CONFLICT', 'FAILED'] },
    operation: { type: 'string', enum: ['CREATE', 'UPDATE', 'DELETE'] },
    resourceType: { type: 'string' },
    resourceId: uuid,
    version: { type: 'integer', nullable: true },
    deviceId: { type: 'string', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    retryCount: { type: 'integer' },
    result: resultSchema,
    conflictId: uuid,
    resolutionOptions: {
      type: 'array',
      items: { type: 'string', enum: ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'] },
    },
  },
};
const deviceIdQuery = ApiQuery({ name: 'deviceId', required: true, schema: { type: 'string' } });
const queueIdParam = ApiParam({
  name: 'id',
  schema: uuid,
  description: 'the clientMutationId of the queued operation',
});

export const ApiEnqueue = () =>
  applyDecorators(
    deviceIdHeader,
    ApiBody({
      required: true,
      schema: {
        type: 'object',
        required: ['operation', 'resourceType', 'resourceId'],
        properties: {
          deviceId: { type: 'string' },
          operation: { type: 'string', enum: ['CREATE', 'UPDATE', 'DELETE'] },
          resourceType: { type: 'string', enum: ENTITY_NAMES },
          resourceId: uuid,
          data: anyObject,
          createdAtClient: { type: 'string', format: 'date-time' },
          version: { type: 'integer', description: 'base version (UPDATE, DELETE)' },
          clientMutationId: uuid,
        },
      },
    }),
    SyncIngestOperation({
      summary: 'Queue one operation (seed API)',
      status: 202,
      description: 'stored as pending (the same clientMutationId again returns the stored item)',
      schema: {
        type: 'object',
        required: ['id', 'status'],
        properties: {
          id: uuid,
          status: { type: 'string', enum: ['PENDING', 'SYNCED', 'CONFLICT', 'FAILED'] },
        },
      },
      errors: [
        bad('bad operation or fields'),
        forbidden('the body or its data names another tenant', [C.TENANT_MISMATCH]),
        conflict('the clientMutationId was already queued with another payload'),
      ],
    }),
  );

export const ApiPending = () =>
  applyDecorators(
    deviceIdQuery,
    SyncIngestOperation({
      summary: "The caller's open queued operations of a device",
      status: 200,
      description: 'open operations',
      schema: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: queueItem } },
      },
      errors: [bad('deviceId missing or not one string')],
    }),
  );

export const ApiProcess = () =>
  applyDecorators(
    queueIdParam,
    SyncIngestOperation({
      summary: 'Run one queued operation through the push pipeline',
      status: 200,
      description: 'SYNCED, CONFLICT (with resolutionOptions) or FAILED',
      schema: queueItem,
      errors: [
        bad('malformed JSON body'),
        notFound('unknown queued operation (or another user)'),
        conflict('being applied by another request right now', [C.IDEMPOTENCY_IN_FLIGHT], true),
      ],
    }),
  );

export const ApiQueueResolve = () =>
  applyDecorators(
    queueIdParam,
    ApiQuery({
      name: 'resolution',
      required: true,
      schema: { type: 'string', enum: ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'] },
    }),
    SyncIngestOperation({
      summary: "Resolve a queued operation's conflict",
      status: 200,
      description: 'the resolution, as the conflicts API answers it',
      schema: resolveResponse,
      errors: [
        bad('bad resolution'),
        forbidden('the caller may not resolve this conflict', [C.FORBIDDEN]),
        notFound('unknown queued operation, or no conflict for it'),
        conflict('already resolved, stale or refused by the module'),
      ],
    }),
  );

export const ApiRetry = () =>
  applyDecorators(
    deviceIdQuery,
    SyncIngestOperation({
      summary: "Re-run a device's open queued operations",
      status: 200,
      description: 'each re-run operation',
      schema: {
        type: 'object',
        required: ['retried', 'items'],
        properties: { retried: { type: 'integer' }, items: { type: 'array', items: queueItem } },
      },
      errors: [
        bad('deviceId missing or not one string'),
        conflict(
          'an operation is being applied by another request right now',
          [C.IDEMPOTENCY_IN_FLIGHT],
          true,
        ),
      ],
    }),
  );

export const ApiStats = () =>
  SyncIngestOperation({
    summary: 'Sync statistics of the tenant (admin)',
    status: 200,
    description: 'counts',
    schema: {
      type: 'object',
      properties: {
        total: { type: 'integer' },
        pending: { type: 'integer' },
        synced: { type: 'integer' },
        failed: { type: 'integer' },
        conflicts: { type: 'integer' },
        syncRate: { type: 'number' },
      },
    },
    errors: [bad('malformed JSON body'), forbidden('not an admin', [C.FORBIDDEN])],
  });
