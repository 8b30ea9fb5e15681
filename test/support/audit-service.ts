import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { connect, headers } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { AuditEventResource, AuditKind, CloudEvent, auditSubject } from '@clinisync/contracts';
import { migrate } from '@clinisync/persistence';
import { AuditEventInput, buildAuditEvent } from '@clinisync/sync-core';
import { cloudEvent } from '@clinisync/messaging';
import { AuditConsumer } from '../../services/audit/src/audit-trail/audit-consumer';
import { createAuditApp } from '../../services/audit/src/bootstrap';
import { auditConfig } from '../../services/audit/src/config';
import { auditDatabasePlan } from '../../services/audit/src/database';
import { TEST_ROLES } from './database';

export interface AuditServiceHandle {
  baseUrl: string;
  app: INestApplication;
  /** The service's AUDIT consumer (its `handle` is what each delivered message goes through). */
  consumer: AuditConsumer;
  stop(): Promise<void>;
}

/**
 * The audit service for real: migrates the audit plan into the given database (as the owner,
 * grants for TEST_ROLES) and starts the Nest app on a free port, consuming AUDIT from `natsUrl`.
 * Resolves once the durable consumer is consuming.
 */
export async function startAuditService(options: {
  dbOwnerUrl: string;
  natsUrl: string;
  devIssuerDir: string;
  env?: Record<string, string>;
}): Promise<AuditServiceHandle> {
  await migrate(options.dbOwnerUrl, [auditDatabasePlan], TEST_ROLES);
  const config = auditConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.dbOwnerUrl,
    DATABASE_APP_USER: TEST_ROLES.app.user,
    DATABASE_APP_PASSWORD: TEST_ROLES.app.password ?? '',
    NATS_URL: options.natsUrl,
    AUTH_DEV_ISSUER_DIR: options.devIssuerDir,
    DB_POOL_SIZE: '5',
    PORT: '0',
    ...options.env,
  });
  const app = await createAuditApp(config);
  await app.listen(0, '127.0.0.1');
  const consumer = app.get(AuditConsumer);
  await consumer.start();
  const port = (app.getHttpServer().address() as { port: number }).port;
  return { baseUrl: `http://127.0.0.1:${port}`, app, consumer, stop: () => app.close() };
}

/** A FHIR AuditEvent as a producing service builds it; only what a test is about needs saying. */
export function anAuditEvent(overrides: Partial<AuditEventInput> = {}): AuditEventResource {
  return buildAuditEvent({
    id: uuidv7(),
    kind: 'write-denied',
    recorded: new Date().toISOString(),
    tenantId: 't1',
    correlationId: `corr-${uuidv7()}`,
    clientMutationId: uuidv7(),
    actor: { sub: 'u-nurse', roles: ['nurse'], deviceId: 'tablet-7' },
    service: 'patients',
    facilityId: 'f-9',
    action: 'C',
    outcome: '4',
    outcomeDesc: 'not permitted at facility f-9',
    record: { entity: 'patients', id: uuidv7(), after: { givenName: 'Amina', facilityId: 'f-9' } },
    ...overrides,
  });
}

/** The CloudEvent a producer publishes for `event` on `audit.<tenantId>.<kind>`. */
export function auditCloudEvent(
  event: AuditEventResource,
  source = 'clinisync/patients',
): { subject: string; envelope: CloudEvent<AuditEventResource> } {
  const kind: AuditKind = event.kind;
  return {
    subject: auditSubject(event.tenantId, kind),
    envelope: cloudEvent({
      id: event.id,
      source,
      type: `clinisync.audit.${kind}`,
      subject: event.entity?.[event.entity.length - 1]?.what.reference ?? 'AuditEvent',
      time: event.recorded,
      tenantId: event.tenantId,
      correlationId: event.correlationId,
      data: event,
    }),
  };
}

/** Publishes audit events to JetStream as a module's outbox relay does (`msgId` defaults to the event id). */
export async function publishAuditEvents(
  natsUrl: string,
  events: { event: AuditEventResource; msgId?: string }[],
): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const js = nc.jetstream();
    for (const { event, msgId } of events) {
      const { subject, envelope } = auditCloudEvent(event);
      const h = headers();
      h.set('Content-Type', 'application/cloudevents+json');
      await js.publish(subject, Buffer.from(JSON.stringify(envelope)), {
        msgID: msgId ?? event.id,
        headers: h,
      });
    }
  } finally {
    await nc.drain();
  }
}

/** GETs an audit endpoint as an auditor's client would. */
export async function auditGet<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  token?: string,
): Promise<{ status: number; text: string; json: T; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as T, headers: res.headers };
}
