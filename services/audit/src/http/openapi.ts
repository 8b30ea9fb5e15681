import { INestApplication, applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AUDIT_KINDS, ApiErrorCode } from '@clinisync/contracts';
import { ApiErrorResponses, ErrorStatusDoc, OpenApiSchema, serveOpenApiDocs } from '@clinisync/observability';
import { AUDIT_OUTCOMES, EXPORT_FORMATS } from '../audit-trail/dto/audit-query.dto';

/** Serves the audit service's OpenAPI document at `/api/docs-json` and Swagger UI at `/api/docs`. */
export function serveAuditDocs(app: INestApplication): void {
  serveOpenApiDocs(app, {
    title: 'CliniSync audit',
    description:
      'The hash-chained audit trail for auditors (PROTOCOL.md "Audit trail"): role `auditor`, tenant from the token. ' +
      'Unknown or repeated query parameters are 400 `VALIDATION_FAILED`. Errors are `{"error": {"code", "message", "details"?}}`.',
  });
}

const C = ApiErrorCode;

/** Error statuses every audit operation can answer (HttpErrorFilter / protocolErrorOf). */
const COMMON: ErrorStatusDoc[] = [
  {
    status: 400,
    codes: [C.VALIDATION_FAILED],
    description: 'a query parameter is unknown, repeated or malformed (details name each)',
  },
  {
    status: 401,
    codes: [C.UNAUTHENTICATED],
    description: 'missing, malformed, expired or untrusted bearer token',
  },
  {
    status: 403,
    codes: [C.FORBIDDEN, C.TENANT_MISMATCH],
    description:
      'not an auditor (FORBIDDEN), or tenantId names another tenant (TENANT_MISMATCH); audited as access-denied',
  },
  {
    status: 500,
    codes: [C.INTERNAL],
    description: 'unexpected failure (never caused by input; no internals)',
  },
  {
    status: 503,
    codes: [C.UNAVAILABLE],
    description: 'the database cannot be reached; retry after Retry-After',
    retryAfter: true,
  },
];

const tenantQuery = ApiQuery({
  name: 'tenantId',
  required: false,
  schema: { type: 'string' },
  description: "accepted only when it is the token's tenant",
});
const timeRange = [
  ApiQuery({
    name: 'from',
    required: false,
    schema: { type: 'string', format: 'date-time' },
    description: 'inclusive lower bound on recorded (ISO 8601)',
  }),
  ApiQuery({
    name: 'to',
    required: false,
    schema: { type: 'string', format: 'date-time' },
    description: 'exclusive upper bound on recorded (ISO 8601)',
  }),
];
const filters = [
  ApiQuery({
    name: 'type',
    required: false,
    schema: { type: 'string', enum: [...AUDIT_KINDS] },
    description: 'event kind (subtype code)',
  }),
  ApiQuery({ name: 'entity', required: false, schema: { type: 'string', minLength: 1, maxLength: 100 } }),
  ApiQuery({ name: 'recordId', required: false, schema: { type: 'string', minLength: 1, maxLength: 200 } }),
  ApiQuery({ name: 'patientId', required: false, schema: { type: 'string', minLength: 1, maxLength: 200 } }),
  ApiQuery({
    name: 'actor',
    required: false,
    schema: { type: 'string', minLength: 1, maxLength: 200 },
    description: 'the requesting user id (token sub)',
  }),
  ApiQuery({ name: 'outcome', required: false, schema: { type: 'string', enum: [...AUDIT_OUTCOMES] } }),
];

const auditEvent: OpenApiSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'a stored FHIR R4 AuditEvent with tenantId, correlationId, prevHash and hash',
  properties: {
    id: { type: 'string', format: 'uuid' },
    resourceType: { type: 'string', enum: ['AuditEvent'] },
    recorded: { type: 'string', format: 'date-time' },
    tenantId: { type: 'string' },
    correlationId: { type: 'string' },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
};

function AuditOperation(op: {
  summary: string;
  content: Record<string, OpenApiSchema>;
  errors?: ErrorStatusDoc[];
}): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: op.summary }),
    ApiHeader({
      name: 'X-Correlation-Id',
      required: false,
      description: 'echoed back; generated when absent',
    }),
    tenantQuery,
    ApiResponse({
      status: 200,
      description: 'OK',
      content: Object.fromEntries(Object.entries(op.content).map(([type, schema]) => [type, { schema }])),
    }),
    ApiErrorResponses(...(op.errors ?? []), ...COMMON),
  );
}

export const AuditApi = (): ClassDecorator => applyDecorators(ApiTags('audit'), ApiBearerAuth('bearer'));

export const ApiListAuditEvents = () =>
  applyDecorators(
    ...timeRange,
    ...filters,
    ApiQuery({
      name: 'cursor',
      required: false,
      schema: { type: 'string' },
      description: 'the previous page cursor',
    }),
    ApiQuery({
      name: 'limit',
      required: false,
      schema: { type: 'string', pattern: '^[1-9]\\d{0,8}$' },
      description: '1 or more; default 100; above 1000 served as 1000',
    }),
    AuditOperation({
      summary: "The caller's tenant audit events, oldest first",
      content: {
        'application/json': {
          type: 'object',
          required: ['items', 'cursor', 'hasMore'],
          properties: {
            items: { type: 'array', items: auditEvent },
            cursor: { type: 'string' },
            hasMore: { type: 'boolean' },
          },
        },
      },
      errors: [
        {
          status: 400,
          codes: [C.VALIDATION_FAILED, C.INVALID_CURSOR],
          description:
            'bad query (VALIDATION_FAILED) or a cursor not issued by this service (INVALID_CURSOR)',
        },
      ],
    }),
  );

export const ApiGetAuditEvent = () =>
  applyDecorators(
    ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } }),
    AuditOperation({
      summary: 'One audit event',
      content: { 'application/json': auditEvent },
      errors: [
        {
          status: 404,
          codes: [C.NOT_FOUND],
          description: "no such event in the caller's tenant (another tenant's id is indistinguishable)",
        },
      ],
    }),
  );

export const ApiVerifyAuditChain = () =>
  applyDecorators(
    ...timeRange,
    AuditOperation({
      summary: "Verify the tenant's hash chain (or the segment recorded in [from, to))",
      content: {
        'application/json': {
          type: 'object',
          required: ['valid', 'checked'],
          properties: {
            valid: { type: 'boolean' },
            checked: { type: 'integer' },
            head: { type: 'string' },
            brokenAt: { type: 'object', additionalProperties: true },
          },
        },
      },
    }),
  );

export const ApiExportAudit = () =>
  applyDecorators(
    ...timeRange,
    ...filters,
    ApiQuery({
      name: 'format',
      required: false,
      schema: { type: 'string', enum: [...EXPORT_FORMATS], default: 'ndjson' },
    }),
    AuditOperation({
      summary: 'Export the trail as NDJSON or a FHIR R4 Bundle (a download)',
      content: {
        'application/x-ndjson': { type: 'string' },
        'application/fhir+json': { type: 'object', additionalProperties: true },
      },
    }),
  );
