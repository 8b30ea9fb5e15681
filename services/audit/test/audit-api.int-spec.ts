// Real parts: Postgres with the audit migrations and the non-owner app role (RLS on), a private
// JetStream server, the audit service as a Nest app over HTTP with real JWTs from a dev issuer.
// Events enter through the consumer's handler (the path every delivered message takes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { v7 as uuidv7 } from 'uuid';
import { DevIssuerKeys, DevTokenClaims, ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { AuditEventResource, StoredAuditEvent } from '@clinisync/contracts';
import { AuditEventInput, canonicalJson, sha256Hex } from '@clinisync/sync-core';
import { TestDatabase, createTestDatabase } from '../../../test/support/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import {
  AuditServiceHandle,
  anAuditEvent,
  auditCloudEvent,
  auditGet,
  startAuditService,
} from '../../../test/support/audit-service';

type Page = { items: StoredAuditEvent[]; cursor: string; hasMore: boolean };
type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };

/** The parts of the FHIR R4 AuditEvent and Bundle definitions the export must satisfy (elements, cardinality, types). */
const coding = {
  type: 'object',
  properties: { system: { type: 'string' }, code: { type: 'string' }, display: { type: 'string' } },
  additionalProperties: false,
};
const reference = {
  type: 'object',
  properties: {
    reference: { type: 'string' },
    display: { type: 'string' },
    identifier: {
      type: 'object',
      properties: { system: { type: 'string' }, value: { type: 'string' } },
      required: ['value'],
    },
  },
  additionalProperties: false,
};
const codeableConcept = {
  type: 'object',
  properties: { coding: { type: 'array', minItems: 1, items: coding }, text: { type: 'string' } },
  additionalProperties: false,
};
const extension = {
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    valueString: { type: 'string' },
    valueInteger: { type: 'integer' },
  },
  additionalProperties: false,
};
const auditEventSchema = {
  type: 'object',
  required: ['resourceType', 'type', 'recorded', 'agent', 'source'],
  additionalProperties: false,
  properties: {
    resourceType: { const: 'AuditEvent' },
    id: { type: 'string', pattern: '^[A-Za-z0-9\\-\\.]{1,64}$' },
    extension: { type: 'array', minItems: 1, items: extension },
    type: coding,
    subtype: { type: 'array', minItems: 1, items: coding },
    action: { enum: ['C', 'R', 'U', 'D', 'E'] },
    recorded: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
    },
    outcome: { enum: ['0', '4', '8', '12'] },
    outcomeDesc: { type: 'string' },
    agent: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['who', 'requestor'],
        additionalProperties: false,
        properties: {
          type: codeableConcept,
          role: { type: 'array', minItems: 1, items: codeableConcept },
          who: reference,
          altId: { type: 'string' },
          name: { type: 'string' },
          requestor: { type: 'boolean' },
          network: {
            type: 'object',
            properties: { address: { type: 'string' }, type: { enum: ['1', '2', '3', '4', '5'] } },
            additionalProperties: false,
          },
        },
      },
    },
    source: {
      type: 'object',
      required: ['observer'],
      additionalProperties: false,
      properties: {
        site: { type: 'string' },
        observer: reference,
        type: { type: 'array', minItems: 1, items: coding },
      },
    },
    entity: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          what: reference,
          type: coding,
          role: coding,
          detail: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['type', 'valueString'],
              properties: { type: { type: 'string' }, valueString: { type: 'string' } },
              additionalProperties: false,
            },
          },
        },
      },
    },
  },
};
const bundleSchema = {
  type: 'object',
  required: ['resourceType', 'type'],
  additionalProperties: false,
  properties: {
    resourceType: { const: 'Bundle' },
    type: { const: 'collection' },
    timestamp: { type: 'string' },
    entry: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['fullUrl', 'resource'],
        additionalProperties: false,
        properties: {
          fullUrl: { type: 'string', pattern: '^urn:uuid:[0-9a-f-]{36}$' },
          resource: auditEventSchema,
        },
      },
    },
  },
};

describe('audit trail API (PROTOCOL.md Audit trail)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let audit: AuditServiceHandle;
  let keys: DevIssuerKeys;
  let issuerDir: string;

  beforeAll(async () => {
    db = await createTestDatabase([]);
    nats = await startTestNats();
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-issuer-'));
    keys = await ensureDevIssuerKeys(issuerDir);
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir });
  });

  afterAll(async () => {
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  const token = (claims: Partial<DevTokenClaims> = {}) =>
    signDevToken(keys, { sub: 'u-auditor', tenantId: 't1', roles: ['auditor'], facilities: [], ...claims });
  const get = async <T = Page>(path: string, claims: Partial<DevTokenClaims> = {}) =>
    auditGet<T>(audit.baseUrl, path, await token(claims));

  async function seed(events: AuditEventResource[]): Promise<AuditEventResource[]> {
    for (const e of events) {
      const { subject, envelope } = auditCloudEvent(e);
      await audit.consumer.handle(envelope, subject);
    }
    return events;
  }
  const many = (n: number, overrides: Partial<AuditEventInput>) =>
    Array.from({ length: n }, () => anAuditEvent(overrides));

  it("shows an auditor of tenant A none of tenant B's events: list, get by id, verify and export", async () => {
    const [a] = await seed([anAuditEvent({ tenantId: 't-iso-a' })]);
    const [b] = await seed([anAuditEvent({ tenantId: 't-iso-b' }), anAuditEvent({ tenantId: 't-iso-b' })]);
    const asA = { tenantId: 't-iso-a' };
    const list = await get('/api/v1/audit/events', asA);
    expect(list.status).toBe(200);
    expect(list.json.items.map((e) => e.id)).toEqual([a.id]);
    expect(list.json.items.every((e) => e.tenantId === 't-iso-a')).toBe(true);

    const foreign = await get<ErrorBody>(`/api/v1/audit/events/${b.id}`, asA);
    const missing = await get<ErrorBody>(`/api/v1/audit/events/${uuidv7()}`, asA);
    expect(foreign.status).toBe(404);
    expect(foreign.json).toEqual(missing.json);
    expect(foreign.json.error.code).toBe('NOT_FOUND');

    expect((await get('/api/v1/audit/verify', asA)).json).toMatchObject({ valid: true, checked: 1 });
    const exported = await get('/api/v1/audit/export?format=ndjson', asA);
    expect(
      exported.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as StoredAuditEvent).id),
    ).toEqual([a.id]);
    const named = await get<ErrorBody>('/api/v1/audit/events?tenantId=t-iso-b', asA);
    expect(named.status).toBe(403);
    expect(named.json.error.code).toBe('TENANT_MISMATCH');
  });

  it('refuses a nurse with 403 FORBIDDEN on every audit endpoint and stores each refusal as an access-denied event', async () => {
    const nurse = { tenantId: 't-deny', sub: 'u-nurse', roles: ['nurse'], facilities: ['f-1'] };
    const paths = [
      '/api/v1/audit/events',
      `/api/v1/audit/events/${uuidv7()}`,
      '/api/v1/audit/verify',
      '/api/v1/audit/export?format=fhir',
    ];
    for (const path of paths) {
      const r = await get<ErrorBody>(path, nurse);
      expect(r.status).toBe(403);
      expect(r.json).toEqual({
        error: { code: 'FORBIDDEN', message: 'only auditors may read the audit trail' },
      });
    }
    const denied = await get('/api/v1/audit/events?type=access-denied', { tenantId: 't-deny' });
    expect(denied.json.items).toHaveLength(4);
    const [first] = denied.json.items;
    expect(first).toMatchObject({
      resourceType: 'AuditEvent',
      kind: 'access-denied',
      tenantId: 't-deny',
      outcome: '4',
      action: 'R',
      type: { code: '110113', display: 'Security Alert' },
      source: { observer: { display: 'audit' } },
      agent: [{ who: { identifier: { value: 'u-nurse' } }, requestor: true, role: [{ text: 'nurse' }] }],
      entity: [{ what: { reference: 'AuditTrail/t-deny' } }],
    });
    expect(first.outcomeDesc).toMatch(/nurse may not read the audit trail/);
    expect(denied.json.items[1].entity?.[0].what.reference).toMatch(/^AuditEvent\//);
    // The refusals are chained like any other event.
    expect((await get('/api/v1/audit/verify', { tenantId: 't-deny' })).json).toMatchObject({
      valid: true,
      checked: 4,
    });
  });

  it('answers 401 UNAUTHENTICATED without a valid token and stores nothing for it', async () => {
    const none = await auditGet<ErrorBody>(audit.baseUrl, '/api/v1/audit/events');
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHENTICATED');
    const expired = await get<ErrorBody>('/api/v1/audit/events', {
      tenantId: 't-401',
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    expect(expired.status).toBe(401);
    expect((await get('/api/v1/audit/verify', { tenantId: 't-401' })).json).toMatchObject({
      valid: true,
      checked: 0,
    });
  });

  it('filters by type, entity, recordId, patientId, actor, outcome and recorded time', async () => {
    const T = 't-filter';
    const patientId = uuidv7();
    const visitId = uuidv7();
    const [denied, conflict, dispensing] = await seed([
      anAuditEvent({
        tenantId: T,
        recorded: '2026-03-01T08:00:00.000Z',
        record: { entity: 'patients', id: patientId },
      }),
      anAuditEvent({
        tenantId: T,
        kind: 'conflict-detected',
        outcome: '0',
        recorded: '2026-03-02T08:00:00.000Z',
        actor: { sub: 'u-clin', roles: ['clinician'] },
        record: { entity: 'visits', id: visitId, patientId, conflictingFields: ['reason'] },
      }),
      anAuditEvent({
        tenantId: T,
        kind: 'controlled-dispensing',
        outcome: '0',
        recorded: '2026-03-03T08:00:00.000Z',
        actor: { sub: 'u-pharm', roles: ['pharmacist'] },
        record: { entity: 'dispensing_records', id: uuidv7() },
      }),
    ]);
    const ids = async (query: string) =>
      (await get(`/api/v1/audit/events?${query}`, { tenantId: T })).json.items.map((e) => e.id);
    expect(await ids('type=write-denied')).toEqual([denied.id]);
    expect(await ids('entity=visits')).toEqual([conflict.id]);
    expect(await ids(`recordId=${visitId}`)).toEqual([conflict.id]);
    expect(await ids(`patientId=${patientId}`)).toEqual([denied.id, conflict.id]);
    expect(await ids('actor=u-pharm')).toEqual([dispensing.id]);
    expect(await ids('outcome=0')).toEqual([conflict.id, dispensing.id]);
    expect(await ids('from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z')).toEqual([conflict.id]);
    expect(await ids('from=2026-03-02&outcome=0&actor=u-clin')).toEqual([conflict.id]);
    expect(await ids('type=access-denied')).toEqual([]);
  });

  it('pages in chain order with an opaque keyset cursor: 100 by default, at most 1000, and exports stream every page', async () => {
    const T = 't-page';
    const seeded = await seed(many(1005, { tenantId: T }));
    const first = await get(`/api/v1/audit/events`, { tenantId: T });
    expect(first.json.items).toHaveLength(100);
    expect(first.json.hasMore).toBe(true);
    expect(first.json.items.map((e) => e.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const capped = await get(`/api/v1/audit/events?limit=5000`, { tenantId: T });
    expect(capped.json.items).toHaveLength(1000);
    expect(capped.json.hasMore).toBe(true);
    const rest = await get(`/api/v1/audit/events?limit=1000&cursor=${capped.json.cursor}`, { tenantId: T });
    expect(rest.json.items.map((e) => e.sequence)).toEqual([1001, 1002, 1003, 1004, 1005]);
    expect(rest.json.hasMore).toBe(false);
    const seen = new Set([...capped.json.items, ...rest.json.items].map((e) => e.id));
    expect(seen).toEqual(new Set(seeded.map((e) => e.id)));
    // The last cursor waits for newer events.
    const [later] = await seed([anAuditEvent({ tenantId: T })]);
    expect(
      (await get(`/api/v1/audit/events?cursor=${rest.json.cursor}`, { tenantId: T })).json.items.map(
        (e) => e.id,
      ),
    ).toEqual([later.id]);
    // Exports stream page after page.
    const ndjson = (await get('/api/v1/audit/export', { tenantId: T })).text.trim().split('\n');
    expect(ndjson.map((l) => (JSON.parse(l) as StoredAuditEvent).sequence)).toEqual(
      Array.from({ length: 1006 }, (_, i) => i + 1),
    );
    const fhir = JSON.parse((await get('/api/v1/audit/export?format=fhir', { tenantId: T })).text) as {
      entry: unknown[];
    };
    expect(fhir.entry).toHaveLength(1006);
  });

  it('refuses malformed queries with 400 and the offending parameter, never 500', async () => {
    const cases: [string, string, string][] = [
      ['limit=0', 'VALIDATION_FAILED', 'limit'],
      ['limit=ten', 'VALIDATION_FAILED', 'limit'],
      ['type=coffee-break', 'VALIDATION_FAILED', 'type'],
      ['outcome=3', 'VALIDATION_FAILED', 'outcome'],
      ['from=yesterday', 'VALIDATION_FAILED', 'from'],
      ['actor=a&actor=b', 'VALIDATION_FAILED', 'actor'],
      ['colour=blue', 'VALIDATION_FAILED', 'colour'],
    ];
    for (const [query, code, path] of cases) {
      const r = await get<ErrorBody>(`/api/v1/audit/events?${query}`);
      expect([query, r.status, r.json.error.code]).toEqual([query, 400, code]);
      expect(r.json.error.details?.map((d) => d.path)).toContain(path);
    }
    const cursor = await get<ErrorBody>('/api/v1/audit/events?cursor=bm90LWEtY3Vyc29y');
    expect(cursor.status).toBe(400);
    expect(cursor.json.error.code).toBe('INVALID_CURSOR');
    const format = await get<ErrorBody>('/api/v1/audit/export?format=pdf');
    expect(format.status).toBe(400);
    const route = await get<ErrorBody>('/api/v1/audit/nothing-here');
    expect([route.status, route.json.error.code]).toEqual([404, 'NOT_FOUND']);
    const write = await fetch(`${audit.baseUrl}/api/v1/audit/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}` },
      body: '{}',
    });
    expect(write.status).toBe(404);
  });

  it('serves one event by id with its sequence, prevHash and hash, and 404 NOT_FOUND for a missing or malformed id', async () => {
    const [event] = await seed([anAuditEvent({ tenantId: 't-get' })]);
    const r = await get<StoredAuditEvent>(`/api/v1/audit/events/${event.id}`, { tenantId: 't-get' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      ...event,
      sequence: 1,
      prevHash: '0'.repeat(64),
      hash: sha256Hex('0'.repeat(64) + canonicalJson(event)),
    });
    expect(
      (await get<ErrorBody>(`/api/v1/audit/events/not-a-uuid`, { tenantId: 't-get' })).json.error.code,
    ).toBe('NOT_FOUND');
  });

  it('exports a FHIR R4 Bundle (collection) of AuditEvent resources with every required element', async () => {
    const T = 't-fhir';
    const events = await seed([
      anAuditEvent({ tenantId: T }),
      anAuditEvent({
        tenantId: T,
        kind: 'conflict-resolved',
        outcome: '0',
        actor: { sub: 'u-clin', roles: ['clinician'], deviceId: 'tablet-2', address: '10.1.2.3' },
        record: {
          entity: 'visits',
          id: uuidv7(),
          patientId: uuidv7(),
          beforeVersion: 3,
          afterVersion: 4,
          before: { reason: 'a' },
          after: { reason: 'b' },
          resolution: 'client_wins',
          reason: 'checked with patient',
        },
      }),
    ]);
    const r = await get('/api/v1/audit/export?format=fhir', { tenantId: T });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="audit-t-fhir-\d{8}T\d{6}Z\.json"$/,
    );
    const bundle = JSON.parse(r.text) as {
      resourceType: string;
      type: string;
      entry: {
        fullUrl: string;
        resource: Record<string, unknown> & {
          agent: { who: unknown; requestor: boolean }[];
          source: { observer: unknown };
        };
      }[];
    };
    const ajv = new Ajv({ allErrors: true, strict: false });
    const valid = ajv.validate(bundleSchema, bundle);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('collection');
    expect(bundle.entry.map((e) => e.fullUrl)).toEqual(events.map((e) => `urn:uuid:${e.id}`));
    for (const { resource } of bundle.entry) {
      expect(resource.resourceType).toBe('AuditEvent');
      expect(resource.type).toEqual(expect.objectContaining({ code: expect.any(String) }));
      expect(typeof resource.recorded).toBe('string');
      expect(resource.agent.length).toBeGreaterThan(0);
      for (const agent of resource.agent) {
        expect(agent.who).toBeDefined();
        expect(typeof agent.requestor).toBe('boolean');
      }
      expect(resource.source.observer).toBeDefined();
    }
    const empty = await get('/api/v1/audit/export?format=fhir', { tenantId: 't-fhir-empty' });
    expect(ajv.validate(bundleSchema, JSON.parse(empty.text))).toBe(true);
  });

  it('exports NDJSON streamed one stored event per line, each re-verifiable offline from the line before', async () => {
    const T = 't-ndjson';
    const events = await seed(many(7, { tenantId: T }));
    const r = await get('/api/v1/audit/export?format=ndjson', { tenantId: T });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(r.text.endsWith('\n')).toBe(true);
    const lines = r.text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(7);
    let prev = '0'.repeat(64);
    lines.forEach((line, i) => {
      const { sequence, prevHash, hash, ...event } = JSON.parse(line) as StoredAuditEvent;
      expect(event.id).toBe(events[i].id);
      expect(sequence).toBe(i + 1);
      expect(prevHash).toBe(prev);
      expect(hash).toBe(sha256Hex(prevHash + canonicalJson(event)));
      prev = hash;
    });
    const filtered = await get('/api/v1/audit/export?type=access-denied', { tenantId: T });
    expect(filtered.text).toBe('');
  });

  it('serves health and metrics without a token', async () => {
    const ready = await fetch(`${audit.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, nats: { status: 'up' } },
    });
    expect((await fetch(`${audit.baseUrl}/health/live`)).status).toBe(200);
    const metrics = await (await fetch(`${audit.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /clinisync_audit_events_appended_total\{kind="write-denied",service="audit"\} \d+/,
    );
  });
});
