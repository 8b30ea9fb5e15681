import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { ensureDevIssuerKeys } from '@clinisync/auth';
import { ENTITIES, entityDataSchema, getEntity } from '@clinisync/sync-core';
import { startModuleService } from '@clinisync/module-runtime';
import { createSyncIngestApp } from '../../services/sync-ingest/src/bootstrap';
import { syncIngestConfig } from '../../services/sync-ingest/src/config';
import { PatientsAppModule } from '../../services/patients/src/app.module';
import { patientsConfig } from '../../services/patients/src/config';
import { PLATFORM_PLANS } from '../../tools/platform-plans';
import { TEST_ROLES, TestDatabase, createTestDatabase } from '../support/database';
import { TestNats, freePort, startTestNats } from '../support/nats-server';
import { AuditServiceHandle, startAuditService } from '../support/audit-service';
import {
  OpenApiDocument,
  OpenApiOperation,
  RegisteredRoute,
  documentedRoutes,
  fetchDocument,
  isDocsRoute,
  isMiddlewareRoute,
  registeredRoutes,
  toOpenApiPath,
} from '../support/openapi';

interface Served {
  name: string;
  baseUrl: string;
  app: INestApplication;
  doc: OpenApiDocument;
}

const key = (r: RegisteredRoute) => `${r.method} ${r.path}`;
/**
 * The contract: the repository's statement (docs/PROTOCOL.md) and the team's design contract
 * next to the checkout (../shared/design/PROTOCOL.md), whichever are present; a route either
 * names must be documented.
 */
const PROTOCOL = [
  resolve(__dirname, '../../docs/PROTOCOL.md'),
  resolve(__dirname, '../../../shared/design/PROTOCOL.md'),
]
  .filter((f) => existsSync(f))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

/**
 * Statuses PROTOCOL.md names per operation: every call answers 401 without a token ("Bearer on every
 * call"), bad input is 400, a dependency down 503; plus what each section says.
 */
const PROTOCOL_STATUSES: Record<string, number[]> = {
  'POST /api/v1/sync/push': [200, 400, 401, 403, 409, 413, 429, 503],
  'GET /api/v1/sync/pull': [200, 400, 401, 403, 503],
  'GET /api/v1/records/{entity}/{id}': [200, 401, 404, 503],
  'GET /api/v1/records/{entity}': [200, 400, 401, 503],
  'GET /api/v1/sync/conflicts': [200, 400, 401, 503],
  'POST /api/v1/sync/conflicts/{conflictId}/resolve': [200, 400, 401, 403, 404, 409, 503],
  'POST /api/v1/sync/queue': [202, 400, 401, 403, 503],
  'GET /api/v1/sync/pending': [200, 400, 401, 503],
  'POST /api/v1/sync/process/{id}': [200, 401, 404, 503],
  'PATCH /api/v1/sync/resolve/{id}': [200, 400, 401, 404, 409, 503],
  'POST /api/v1/sync/retry': [200, 400, 401, 503],
  'GET /api/v1/sync/stats': [200, 401, 403, 503],
  'GET /api/v1/audit/events': [200, 400, 401, 403, 503],
  'GET /api/v1/audit/events/{id}': [200, 401, 403, 404, 503],
  'GET /api/v1/audit/verify': [200, 400, 401, 403, 503],
  'GET /api/v1/audit/export': [200, 400, 401, 403, 503],
  'GET /health/live': [200],
  'GET /health/ready': [200, 503],
  'GET /metrics': [200],
};

/** `METHOD /path` of every route PROTOCOL.md names (query strings cut off). */
function protocolRoutes(): string[] {
  const found = [
    ...PROTOCOL.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/(?:api|health|metrics)[A-Za-z0-9_\-/{}.]*)/g),
  ].map((m) => `${m[1]} ${m[2].replace(/\/$/, '')}`);
  // `GET/POST /api/v2/sync` (WatermelonDB-native sync) has no implementation in the services yet.
  return [...new Set(found)].filter((r) => !r.endsWith('/...') && !r.includes('/api/v2/'));
}

describe('OpenAPI documents (GET /api/docs-json) against the real routes and PROTOCOL.md', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let issuerDir: string;
  let audit: AuditServiceHandle;
  const served: Served[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(PLATFORM_PLANS);
    nats = await startTestNats();
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-openapi-'));
    await ensureDevIssuerKeys(issuerDir);
    const env = {
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.ownerUrl,
      DATABASE_APP_USER: TEST_ROLES.app.user,
      DATABASE_APP_PASSWORD: TEST_ROLES.app.password ?? '',
      DATABASE_RELAY_USER: TEST_ROLES.relay.user,
      DATABASE_RELAY_PASSWORD: TEST_ROLES.relay.password ?? '',
      NATS_URL: nats.url,
      AUTH_DEV_ISSUER_DIR: issuerDir,
    };
    const ingest = await createSyncIngestApp(syncIngestConfig(env));
    await ingest.listen(0, '127.0.0.1');
    const ingestUrl = `http://127.0.0.1:${(ingest.getHttpServer().address() as { port: number }).port}`;
    served.push({
      name: 'sync-ingest',
      baseUrl: ingestUrl,
      app: ingest,
      doc: await fetchDocument(ingestUrl),
    });
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir });
    served.push({
      name: 'audit',
      baseUrl: audit.baseUrl,
      app: audit.app,
      doc: await fetchDocument(audit.baseUrl),
    });
    const port = await freePort();
    const config = patientsConfig({ ...env, PORT: String(port) });
    const patients = await startModuleService('patients', PatientsAppModule.forRoot(config), config);
    const patientsUrl = `http://127.0.0.1:${port}`;
    served.push({
      name: 'patients',
      baseUrl: patientsUrl,
      app: patients,
      doc: await fetchDocument(patientsUrl),
    });
  });
  afterAll(async () => {
    for (const s of served) if (s.name !== 'audit') await s.app.close();
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('serves an OpenAPI 3 document without a token on every service', () => {
    expect(served.map((s) => [s.name, s.doc.openapi.startsWith('3.')])).toEqual([
      ['sync-ingest', true],
      ['audit', true],
      ['patients', true],
    ]);
  });

  it('documents every route each service registers, with its method, and nothing else', () => {
    for (const s of served) {
      const real = registeredRoutes(s.app)
        .filter((r) => !isDocsRoute(r.path) && !isMiddlewareRoute(r.path))
        .map((r) => key({ method: r.method, path: toOpenApiPath(r.path) }))
        .sort();
      const documented = documentedRoutes(s.doc).map(key).sort();
      expect([s.name, documented]).toEqual([s.name, real]);
      expect(real.length).toBeGreaterThanOrEqual(s.name === 'sync-ingest' ? 15 : 6);
    }
  });

  it('gives every operation a success response and, for every error status, the filter error body {error: {code, message}}', () => {
    for (const s of served) {
      for (const [path, item] of Object.entries(s.doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          const statuses = Object.keys(op.responses);
          expect([s.name, method, path, statuses.some((c) => /^2\d\d$/.test(c))]).toEqual([
            s.name,
            method,
            path,
            true,
          ]);
          // /health/ready answers 503 in terminus format, not the error body.
          for (const status of statuses.filter((c) => /^[45]\d\d$/.test(c) && !path.startsWith('/health/'))) {
            const schema = op.responses[status].content?.['application/json']?.schema;
            expect([path, status, schema?.required, schema?.properties?.error?.required]).toEqual([
              path,
              status,
              ['error'],
              ['code', 'message'],
            ]);
            expect([
              path,
              status,
              (schema?.properties?.error?.properties?.code?.enum ?? []).length > 0,
            ]).toEqual([path, status, true]);
          }
          if (path.startsWith('/api/v1/')) expect([path, statuses.includes('401')]).toEqual([path, true]);
        }
      }
    }
  });

  it('documents every route PROTOCOL.md names, with the statuses it names', () => {
    const named = protocolRoutes();
    expect(named).toEqual(
      expect.arrayContaining(['POST /api/v1/sync/push', 'GET /api/v1/sync/pull', 'GET /api/v1/audit/verify']),
    );
    const all = new Map<string, OpenApiOperation>(
      served
        .filter((s) => s.name !== 'patients')
        .flatMap((s) =>
          Object.entries(s.doc.paths).flatMap(([path, item]) =>
            Object.entries(item).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as const),
          ),
        ),
    );
    const missing = named.filter((r) => !all.has(r));
    expect(missing).toEqual([]);
    for (const [route, statuses] of Object.entries(PROTOCOL_STATUSES)) {
      const op = all.get(route);
      expect([route, op !== undefined]).toEqual([route, true]);
      expect([route, Object.keys(op?.responses ?? {}).map(Number)]).toEqual([
        route,
        expect.arrayContaining(statuses),
      ]);
    }
  });

  it('documents the PROTOCOL.md error codes where their statuses are listed', () => {
    const codes = (s: Served, route: string, status: number) => {
      const [method, path] = route.split(' ');
      return s.doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)]?.content?.[
        'application/json'
      ]?.schema.properties?.error?.properties?.code?.enum;
    };
    const [ingest, auditDoc] = served;
    expect(codes(ingest, 'POST /api/v1/sync/push', 403)).toEqual(['TENANT_MISMATCH']);
    expect(codes(ingest, 'POST /api/v1/sync/push', 409)).toEqual(['IDEMPOTENCY_IN_FLIGHT']);
    expect(codes(ingest, 'POST /api/v1/sync/push', 413)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(codes(ingest, 'GET /api/v1/sync/pull', 400)).toEqual(['VALIDATION_FAILED', 'INVALID_CURSOR']);
    expect(codes(ingest, 'GET /api/v1/records/{entity}/{id}', 404)).toEqual(['NOT_FOUND']);
    expect(codes(ingest, 'POST /api/v1/sync/conflicts/{conflictId}/resolve', 409)).toEqual(['CONFLICT']);
    expect(codes(auditDoc, 'GET /api/v1/audit/events', 403)).toEqual(['FORBIDDEN', 'TENANT_MISMATCH']);
    expect(codes(auditDoc, 'GET /api/v1/audit/events', 503)).toEqual(['UNAVAILABLE']);
  });

  it("documents a push mutation's data by the per-entity JSON Schemas sync-core validates it with", () => {
    const doc = served[0].doc as OpenApiDocument & { components?: { schemas?: Record<string, unknown> } };
    const mutation = doc.paths['/api/v1/sync/push']?.post?.requestBody?.content['application/json']?.schema
      .properties?.mutations?.items;
    const data = mutation?.properties?.data as { type?: string; anyOf?: { $ref: string }[] } | undefined;
    expect(data?.type).toBe('object');
    const names = (data?.anyOf ?? []).map((r) => r.$ref.replace('#/components/schemas/', ''));
    expect(names).toHaveLength(ENTITIES.length * 2);
    expect(names.filter((n) => doc.components?.schemas?.[n] === undefined)).toEqual([]);
    expect(doc.components?.schemas?.PatientsCreateData).toEqual(entityDataSchema(getEntity('patients'), 'create'));
    expect(doc.components?.schemas?.ClinicalNotesUpdateData).toEqual(
      entityDataSchema(getEntity('clinical_notes'), 'update'),
    );
  });

  it('serves Swagger UI as HTML at /api/docs without a token', async () => {
    for (const s of served) {
      const res = await fetch(`${s.baseUrl}/api/docs`);
      const body = await res.text();
      expect([
        s.name,
        res.status,
        res.headers.get('content-type')?.startsWith('text/html'),
        body.includes('swagger-ui'),
      ]).toEqual([s.name, 200, true, true]);
    }
  });
});
