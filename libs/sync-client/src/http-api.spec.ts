import { COMPRESS_ABOVE_BYTES, SyncApi, gzipText } from './http-api';

async function gunzip(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

interface Sent {
  headers: Record<string, string>;
  body: RequestInit['body'];
}

function apiWith(sent: Sent[], options: { compressAboveBytes?: number } = {}): SyncApi {
  return new SyncApi({
    baseUrl: 'http://ingest.test',
    token: async () => 't',
    deviceId: 'tab-1',
    ...options,
    fetch: async (_url, init) => {
      sent.push({ headers: init?.headers as Record<string, string>, body: init?.body });
      return new Response(JSON.stringify({ results: [], checkpoint: 'c' }), { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
}

const mutations = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    clientMutationId: `0193f0c2-0000-7000-8000-${String(i).padStart(12, '0')}`,
    entity: 'patients',
    op: 'create' as const,
    id: `0193f0c2-0000-7000-9000-${String(i).padStart(12, '0')}`,
    data: { givenName: `Amina ${i}`, familyName: 'Okafor', facilityId: 'f-1' },
  }));

describe('SyncApi request compression', () => {
  it('sends a push body over 1 KiB gzip-encoded (CompressionStream), and it inflates to the same JSON', async () => {
    const sent: Sent[] = [];
    const batch = mutations(40);
    await apiWith(sent).push(batch);
    const plain = JSON.stringify({ deviceId: 'tab-1', mutations: batch });
    expect(plain.length).toBeGreaterThan(COMPRESS_ABOVE_BYTES);
    expect(sent[0].headers['content-encoding']).toBe('gzip');
    expect(sent[0].headers['content-type']).toBe('application/json');
    const body = sent[0].body as Uint8Array;
    expect(body).toBeInstanceOf(Uint8Array);
    expect(body.byteLength).toBeLessThan(plain.length / 3);
    expect(JSON.parse(await gunzip(body))).toEqual({ deviceId: 'tab-1', mutations: batch });
  });

  it('sends a small push plain, without Content-Encoding', async () => {
    const sent: Sent[] = [];
    await apiWith(sent).push(mutations(1));
    expect(sent[0].headers['content-encoding']).toBeUndefined();
    expect(typeof sent[0].body).toBe('string');
  });

  it('sends plain when compression is off (compressAboveBytes: Infinity)', async () => {
    const sent: Sent[] = [];
    await apiWith(sent, { compressAboveBytes: Infinity }).push(mutations(40));
    expect(sent[0].headers['content-encoding']).toBeUndefined();
  });

  it('falls back to plain where the runtime has no CompressionStream', async () => {
    const original = globalThis.CompressionStream;
    try {
      delete (globalThis as { CompressionStream?: unknown }).CompressionStream;
      expect(await gzipText('x'.repeat(4096))).toBeUndefined();
      const sent: Sent[] = [];
      const batch = mutations(40);
      await apiWith(sent).push(batch);
      expect(sent[0].headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(sent[0].body as string)).toEqual({ deviceId: 'tab-1', mutations: batch });
    } finally {
      globalThis.CompressionStream = original;
    }
  });

  it('gzipText round-trips non-ASCII text', async () => {
    const text = JSON.stringify({ note: 'tension artérielle élevée — 高血压 '.repeat(100) });
    expect(await gunzip((await gzipText(text)) as Uint8Array)).toBe(text);
  });
});
