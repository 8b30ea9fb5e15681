import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { parse } from 'yaml';
import { ensureDevIssuerKeys } from '@clinisync/auth';
import { KongRoute, kongRoutes } from '../../gateway/kong-routes';
import { createSyncIngestApp } from '../../services/sync-ingest/src/bootstrap';
import { syncIngestConfig } from '../../services/sync-ingest/src/config';
import { PLATFORM_PLANS } from '../../tools/platform-plans';
import { TEST_ROLES, TestDatabase, createTestDatabase } from '../support/database';
import { TestNats, startTestNats } from '../support/nats-server';
import { AuditServiceHandle, startAuditService } from '../support/audit-service';

interface RealRoute {
  service: string;
  method: string;
  path: string;
}

/** Routes as registered in the running app's Express router (not a hand-written list). */
function registeredRoutes(service: string, app: INestApplication): RealRoute[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: unknown[] }; _router?: { stack: unknown[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out: RealRoute[] = [];
  for (const layer of stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push({ service, method: method.toUpperCase(), path: layer.route.path });
  }
  return out;
}

/** A concrete request path for a route pattern (`:id` -> a sample segment). */
const sample = (path: string) => path.replace(/:[A-Za-z]+/g, 'x1');
const isPublic = (r: RealRoute) => r.path.startsWith('/api/v1/');

describe('gateway/kong.yml against the services real routes', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let issuerDir: string;
  let ingest: INestApplication;
  let audit: AuditServiceHandle;
  let real: RealRoute[];
  let kong: KongRoute[];

  beforeAll(async () => {
    db = await createTestDatabase(PLATFORM_PLANS);
    nats = await startTestNats();
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-kong-'));
    await ensureDevIssuerKeys(issuerDir);
    ingest = await createSyncIngestApp(
      syncIngestConfig({
        LOG_LEVEL: 'silent',
        DATABASE_URL: db.ownerUrl,
        DATABASE_APP_USER: TEST_ROLES.app.user,
        DATABASE_APP_PASSWORD: TEST_ROLES.app.password,
        DATABASE_RELAY_USER: TEST_ROLES.relay.user,
        DATABASE_RELAY_PASSWORD: TEST_ROLES.relay.password,
        NATS_URL: nats.url,
        AUTH_DEV_ISSUER_DIR: issuerDir,
      }),
    );
    await ingest.init();
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir });
    real = [...registeredRoutes('sync-ingest', ingest), ...registeredRoutes('audit', audit.app)];
    kong = kongRoutes(parse(readFileSync(resolve(__dirname, '../../gateway/kong.yml'), 'utf8')));
  });
  afterAll(async () => {
    await ingest?.close();
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('reads a non-trivial set of routes from both apps', () => {
    expect(real.filter(isPublic).length).toBeGreaterThanOrEqual(16);
    expect(real.some((r) => r.path === '/health/ready')).toBe(true);
  });

  it('routes every public route of the services through Kong to the right service', () => {
    const unrouted = real
      .filter(isPublic)
      .filter((r) => !kong.some((k) => k.service === r.service && (k.methods.length === 0 || k.methods.includes(r.method)) && k.pathRegex.test(sample(r.path))));
    expect(unrouted).toEqual([]);
  });

  it('has no Kong route that hits no real route', () => {
    const dangling = kong.filter((k) => !real.some((r) => r.service === k.service && isPublic(r) && (k.methods.length === 0 || k.methods.includes(r.method)) && k.pathRegex.test(sample(r.path))));
    expect(dangling.map((k) => k.name)).toEqual([]);
  });

  it('routes no health or metrics path', () => {
    for (const r of real.filter((x) => !isPublic(x))) expect(kong.some((k) => k.pathRegex.test(sample(r.path)))).toBe(false);
  });

  it('puts jwt on every route and the auditor acl on every audit route', () => {
    for (const k of kong) expect([k.name, k.plugins.includes('jwt')]).toEqual([k.name, true]);
    for (const k of kong.filter((x) => x.service === 'audit')) {
      expect([k.name, k.plugins.includes('acl')]).toEqual([k.name, true]);
      expect(k.pluginConfig.acl).toMatchObject({ allow: ['auditor'] });
    }
    // And the clinical issuers' acl on every other route (issue 19: ACL groups per role).
    for (const k of kong.filter((x) => x.service !== 'audit')) expect([k.name, k.pluginConfig.acl?.['allow']]).toEqual([k.name, ['clinical']]);
  });
});
