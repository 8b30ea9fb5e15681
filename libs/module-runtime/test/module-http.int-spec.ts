import 'reflect-metadata';
import { Body, Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AddressInfo } from 'node:net';
import { configureModuleHttp } from '@clinisync/module-runtime';
import { CommonConfig, loadConfig, secureHttpApp } from '@clinisync/observability';

// Real: a Nest/Express app listening on a free port, configured by the functions every service
// bootstrap calls (configureModuleHttp in module services, secureHttpApp in sync-ingest and
// audit), reached over HTTP with fetch. The routes are stand-ins; nothing else is mocked.
@Controller()
class ProbeController {
  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Post('internal/v1/apply-batch')
  apply(@Body() body: { mutations?: unknown[] }) {
    return { received: body.mutations?.length ?? 0 };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

interface Started {
  app: INestApplication;
  url: string;
}

async function start(env: Record<string, string>, configure: (app: INestApplication, config: CommonConfig) => void): Promise<Started> {
  const config = loadConfig(CommonConfig, env);
  const app = await NestFactory.create(ProbeModule, { logger: false, bodyParser: false });
  configure(app, config);
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

/** A JSON body of exactly `bytes` bytes. */
function bodyOf(bytes: number): string {
  const shell = JSON.stringify({ mutations: [{ pad: '' }] });
  return JSON.stringify({ mutations: [{ pad: 'x'.repeat(bytes - shell.length) }] });
}

const post = (url: string, body: string) => fetch(`${url}/internal/v1/apply-batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('module service HTTP: body limit, security headers, CORS', () => {
  let dev: Started;
  let prod: Started;
  let listed: Started;
  const limit = 64 * 1024;

  beforeAll(async () => {
    dev = await start({ NODE_ENV: 'development', BODY_LIMIT_BYTES: String(limit) }, configureModuleHttp);
    prod = await start({ NODE_ENV: 'test', CORS_ORIGINS: '' }, (app) => secureHttpApp(app, { NODE_ENV: 'production' }));
    listed = await start({ NODE_ENV: 'test', CORS_ORIGINS: 'https://clinic.example.org' }, secureHttpApp);
  });

  afterAll(async () => {
    await Promise.all([dev, prod, listed].filter(Boolean).map((s) => s.app.close()));
  });

  it('accepts a body of exactly BODY_LIMIT_BYTES and answers 413 one byte above (the edge limit)', async () => {
    const atLimit = await post(dev.url, bodyOf(limit));
    expect(atLimit.status).toBe(201);
    expect(await atLimit.json()).toEqual({ received: 1 });
    expect((await post(dev.url, bodyOf(limit + 1))).status).toBe(413);
  });

  it('answers a body the parser refuses with a 4xx in the module error shape (BAD_COMMAND), never an HTML page or a 5xx', async () => {
    const send = (body: string, contentType = 'application/json') =>
      fetch(`${dev.url}/internal/v1/apply-batch`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const cases: [string, Promise<Response>, number][] = [
      ['not JSON', send('{"mutations": [1, 2'), 400],
      ['a bare word', send('nope'), 400],
      ['over the limit', send(bodyOf(limit + 1)), 413],
      ['an unknown charset', send('{}', 'application/json; charset=ebcdic'), 415],
    ];
    for (const [what, answer, status] of cases) {
      const res = await answer;
      const body = (await res.json()) as { error?: { code?: string } };
      expect({ what, status: res.status, code: body.error?.code }).toEqual({ what, status, code: 'BAD_COMMAND' });
    }
  });

  it('uses the 2 MiB edge default, not a larger internal limit', async () => {
    const defaults = await start({ NODE_ENV: 'test' }, configureModuleHttp);
    try {
      expect((await post(defaults.url, bodyOf(2 * 1024 * 1024))).status).toBe(201);
      expect((await post(defaults.url, bodyOf(2 * 1024 * 1024 + 1))).status).toBe(413);
    } finally {
      await defaults.app.close();
    }
  });

  it.each(['dev', 'prod', 'listed'] as const)('sends helmet security headers and no X-Powered-By (%s)', async (which) => {
    const s = { dev, prod, listed }[which];
    const res = await fetch(`${s.url}/health/live`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    if (which === 'dev') expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  const preflight = (url: string, origin: string) =>
    fetch(`${url}/internal/v1/apply-batch`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  it('answers a preflight from an allowed origin, naming it (never *) and allowing credentials', async () => {
    for (const [s, origin] of [
      [dev, 'http://localhost:5173'],
      [listed, 'https://clinic.example.org'],
    ] as const) {
      const res = await preflight(s.url, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      expect(res.headers.get('vary')).toMatch(/Origin/i);
    }
    const simple = await fetch(`${listed.url}/health/live`, { headers: { origin: 'https://clinic.example.org' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://clinic.example.org');
    expect(simple.headers.get('access-control-expose-headers')).toContain('X-Correlation-Id');
  });

  it('gives no CORS grant to an origin not listed, and none at all by default in production', async () => {
    for (const [s, origin] of [
      [listed, 'https://evil.example.org'],
      [dev, 'https://clinic.example.org'],
      [prod, 'http://localhost:5173'],
      [prod, 'https://clinic.example.org'],
    ] as const) {
      const res = await preflight(s.url, origin);
      // Without Access-Control-Allow-Origin the browser hands the app nothing (credentials or not).
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      if (s === prod) expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
      const simple = await fetch(`${s.url}/health/live`, { headers: { origin } });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
