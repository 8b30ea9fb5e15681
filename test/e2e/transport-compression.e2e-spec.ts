import { gzipSync, brotliCompressSync, deflateSync, createGzip } from 'node:zlib';
import { SyncApi } from '@clinisync/sync-client';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate } from '../support/builders';
import { AuditServiceHandle, startAuditService } from '../support/audit-service';

interface Answer {
  status: number;
  encoding: string | null;
  json: { results?: { status: string }[]; error?: { code: string; message: string }; changes?: Record<string, { created: unknown[] }> };
}

/** `count` MiB of zeros gzip-compressed, built a MiB at a time (the bomb never exists inflated here). */
async function gzipBomb(count: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => gz.on('end', r));
  const zeros = Buffer.alloc(1024 * 1024, 0x30); // ASCII '0': a "number" JSON body if ever parsed
  for (let i = 0; i < count; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
  gz.end();
  await done;
  return Buffer.concat(out);
}

describe('transport compression (PROTOCOL.md Transport)', () => {
  let p: Platform;
  let token: string;
  beforeAll(async () => {
    p = await startPlatform();
    token = await p.token();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const send = async (body: Uint8Array | string, encoding: string | undefined, path = '/api/v1/sync/push'): Promise<Answer> => {
    const res = await fetch(`${p.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-device-id': 'tab-zip', ...(encoding ? { 'content-encoding': encoding } : {}) },
      body,
    });
    return { status: res.status, encoding: res.headers.get('content-encoding'), json: (await res.json()) as Answer['json'] };
  };
  const pushBody = (n: number) => JSON.stringify({ deviceId: 'tab-zip', mutations: Array.from({ length: n }, () => aPatientCreate()) });

  it.each([
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
    ['deflate', deflateSync],
  ] as const)('applies a push whose body is Content-Encoding %s', async (encoding, compress) => {
    const r = await send(compress(Buffer.from(pushBody(20))), encoding);
    expect([r.status, r.json.results?.map((x) => x.status)]).toEqual([200, Array(20).fill('applied')]);
  });

  it('applies an identity (and an upper-case) Content-Encoding as plain', async () => {
    expect((await send(pushBody(1), 'identity')).status).toBe(200);
    expect((await send(gzipSync(Buffer.from(pushBody(1))), 'GZIP')).status).toBe(200);
  });

  it('refuses a gzip bomb (100 MiB of zeros in ~100 KB) with 413 PAYLOAD_TOO_LARGE, inflating no more than the limit', async () => {
    const bomb = await gzipBomb(100);
    expect(bomb.length).toBeLessThan(200 * 1024);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const r = await send(bomb, 'gzip');
    const grown = process.memoryUsage().rss - before;
    expect([r.status, r.json.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a brotli bomb the same way', async () => {
    const r = await send(brotliCompressSync(Buffer.alloc(20 * 1024 * 1024, 0x30)), 'br');
    expect([r.status, r.json.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it.each([
    ['gzip', 'corrupt', Buffer.from('this is not gzip at all')],
    ['gzip', 'truncated', gzipSync(Buffer.from(pushBody(5))).subarray(0, 40)],
    ['br', 'corrupt', Buffer.from('this is not brotli')],
    ['deflate', 'corrupt', Buffer.from('nor deflate')],
  ])('answers a %s body (%s) with 400 VALIDATION_FAILED naming the encoding', async (encoding, _what, body) => {
    const r = await send(body, encoding);
    expect([r.status, r.json.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(r.json.error?.message).toContain(`not valid ${encoding}`);
  });

  it('answers gzip whose content is not JSON with the malformed JSON 400', async () => {
    const r = await send(gzipSync(Buffer.from('{"mutations": [')), 'gzip');
    expect([r.status, r.json.error?.message]).toEqual([400, 'malformed JSON body']);
  });

  it.each(['zstd', 'compress', 'gzip, br', 'x-unknown'])('answers Content-Encoding %s with 415 UNSUPPORTED_ENCODING', async (encoding) => {
    const r = await send(pushBody(1), encoding);
    expect([r.status, r.json.error?.code]).toEqual([415, 'UNSUPPORTED_ENCODING']);
    expect(r.json.error?.message).toContain('gzip, br, deflate');
  });

  describe('compressed answers', () => {
    beforeAll(async () => {
      expect((await send(pushBody(30), undefined)).status).toBe(200);
    });
    const pull = async (acceptEncoding: string) => {
      const res = await fetch(`${p.baseUrl}/api/v1/sync/pull?limit=1000`, { headers: { authorization: `Bearer ${token}`, 'x-device-id': 'tab-pull', 'accept-encoding': acceptEncoding } });
      const body = (await res.json()) as Answer['json'];
      return { status: res.status, encoding: res.headers.get('content-encoding'), type: res.headers.get('content-type'), vary: res.headers.get('vary'), length: res.headers.get('content-length'), created: body.changes?.patients?.created.length ?? 0 };
    };

    it.each([
      ['gzip', 'gzip', 'gzip'],
      ['br', 'br', 'br'],
      ['br and gzip (q-values)', 'br', 'br;q=1.0, gzip;q=0.5'],
    ])('answers a pull with Accept-Encoding %s as %s, Content-Type kept', async (_what, expected, accept) => {
      const r = await pull(accept);
      expect(r).toMatchObject({ status: 200, encoding: expected, type: 'application/json; charset=utf-8', length: null });
      expect(r.vary).toMatch(/accept-encoding/i);
      expect(r.created).toBeGreaterThanOrEqual(30);
    });

    it('answers plain without Accept-Encoding (identity), with its Content-Length', async () => {
      const r = await pull('identity');
      expect(r).toMatchObject({ status: 200, encoding: null, type: 'application/json; charset=utf-8' });
      expect(Number(r.length)).toBeGreaterThan(1024);
    });

    it('leaves a small answer (< 1 KiB) plain', async () => {
      const res = await fetch(`${p.baseUrl}/api/v1/sync/pull?limit=1&entities=visits`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' } });
      expect([res.status, res.headers.get('content-encoding')]).toEqual([200, null]);
    });

    it('releases the admission ticket of each compressed answer (more sequential pulls than a device may have in flight)', async () => {
      for (let i = 0; i < 8; i++) expect((await pull(i % 2 ? 'gzip' : 'br')).status).toBe(200);
    });
  });

  describe('audit answers', () => {
    let audit: AuditServiceHandle;
    beforeAll(async () => {
      audit = await startAuditService({ dbOwnerUrl: p.db.ownerUrl, natsUrl: p.nats.url, devIssuerDir: p.env.AUTH_DEV_ISSUER_DIR });
    });
    afterAll(async () => {
      await audit?.stop();
    });

    it.each(['gzip', 'br'])('compresses the audit service answers (docs, a streamed FHIR export) per Accept-Encoding %s', async (accept) => {
      const docs = await fetch(`${audit.baseUrl}/api/docs-json`, { headers: { 'accept-encoding': accept } });
      expect([docs.status, docs.headers.get('content-encoding'), docs.headers.get('content-type')]).toEqual([200, accept, 'application/json; charset=utf-8']);
      expect(((await docs.json()) as { openapi: string }).openapi).toMatch(/^3\./);
      const auditor = await p.token({ sub: 'u-auditor', roles: ['auditor'], facilities: [] });
      const exported = await fetch(`${audit.baseUrl}/api/v1/audit/export?format=fhir`, { headers: { authorization: `Bearer ${auditor}`, 'accept-encoding': accept } });
      expect([exported.status, exported.headers.get('content-encoding'), exported.headers.get('content-type')]).toEqual([200, accept, 'application/fhir+json']);
      expect(((await exported.json()) as { resourceType: string }).resourceType).toBe('Bundle');
      const plain = await fetch(`${audit.baseUrl}/api/docs-json`, { headers: { 'accept-encoding': 'identity' } });
      expect([plain.status, plain.headers.get('content-encoding')]).toEqual([200, null]);
    });
  });

  it('the SDK pushes a large batch gzip-encoded and reads compressed pulls (round trip)', async () => {
    const sent: { encoding?: string; bytes: number }[] = [];
    const api = new SyncApi({
      baseUrl: p.baseUrl,
      token: async () => token,
      deviceId: 'tab-sdk',
      fetch: (url, init) => {
        const h = (init?.headers ?? {}) as Record<string, string>;
        if (init?.method === 'POST') sent.push({ encoding: h['content-encoding'], bytes: typeof init.body === 'string' ? init.body.length : (init.body as Uint8Array).byteLength });
        return fetch(url, init);
      },
    });
    const mutations = Array.from({ length: 50 }, () => aPatientCreate());
    const pushed = await api.push(mutations);
    expect(pushed.results.map((r) => r.status)).toEqual(Array(50).fill('applied'));
    expect(sent[0].encoding).toBe('gzip');
    expect(sent[0].bytes).toBeLessThan(JSON.stringify({ deviceId: 'tab-sdk', mutations }).length / 2);
    const page = await api.pull(null, 1000, ['patients']);
    const ids = new Set(Object.values(page.changes).flatMap((c) => (c.created ?? []).map((r) => r.id)));
    expect(mutations.every((m) => ids.has(m.id))).toBe(true);
  });
});
