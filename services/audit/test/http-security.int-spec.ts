// Real parts: Postgres with the audit migrations, a private JetStream server, the audit service
// as built by its bootstrap (createAuditApp) over HTTP, real JWTs from a dev issuer. Checks the
// HTTP hardening every service gets from secureHttpApp: helmet headers, no X-Powered-By, CORS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuerKeys, ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { TestDatabase, createTestDatabase } from '../../../test/support/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import { AuditServiceHandle, startAuditService } from '../../../test/support/audit-service';

const WEB_APP = 'https://audit-portal.example.org';

describe('audit service HTTP hardening (helmet, X-Powered-By, CORS)', () => {
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
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir, env: { CORS_ORIGINS: WEB_APP } });
  });

  afterAll(async () => {
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('sends the security headers and no X-Powered-By on API answers and errors alike', async () => {
    for (const path of ['/health/live', '/api/v1/audit/events']) {
      const res = await fetch(`${audit.baseUrl}${path}`);
      expect(res.status).toBe(path === '/health/live' ? 200 : 401);
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
  });

  it('answers the preflight of the listed web app and lets it read an authorised answer', async () => {
    const preflight = await fetch(`${audit.baseUrl}/api/v1/audit/events`, {
      method: 'OPTIONS',
      headers: { origin: WEB_APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(WEB_APP);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');

    const token = await signDevToken(keys, { sub: 'u-auditor', tenantId: 't1', roles: ['auditor'], facilities: [] });
    const res = await fetch(`${audit.baseUrl}/api/v1/audit/events`, { headers: { origin: WEB_APP, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(WEB_APP);
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Correlation-Id');
  });

  it('grants nothing to another origin, the dev localhost origins included (CORS_ORIGINS replaces them)', async () => {
    for (const origin of ['https://evil.example.org', 'http://localhost:5173']) {
      const res = await fetch(`${audit.baseUrl}/api/v1/audit/events`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
