import { randomUUID } from 'node:crypto';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, push } from '../support/builders';

describe('push validation (PROTOCOL.md Errors, Push)', () => {
  let p: Platform;
  let token: string;
  beforeAll(async () => {
    p = await startPlatform();
    token = await p.token();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const stored = async () => {
    const ds = await p.db.ownerDataSource();
    const [row] = await ds.query('SELECT count(*)::int AS n FROM sync_ingest.sync_mutations');
    await ds.destroy();
    return row.n as number;
  };

  it('rejects 0 and 501 mutations with 400', async () => {
    const zero = await push(p.baseUrl, token, { mutations: [] });
    expect(zero.status).toBe(400);
    expect(zero.json.error?.code).toBe('VALIDATION_FAILED');
    const many = await push(p.baseUrl, token, { mutations: Array.from({ length: 501 }, () => aPatientCreate()) });
    expect(many.status).toBe(400);
    expect(many.json.error?.details?.[0].path).toBe('mutations');
  });

  it('answers a 3 MiB body with 413 PAYLOAD_TOO_LARGE', async () => {
    const big = aPatientCreate({ data: { address: 'x'.repeat(3 * 1024 * 1024) } });
    const r = await push(p.baseUrl, token, { mutations: [big] });
    expect(r.status).toBe(413);
    expect(r.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  const cases: [string, unknown, string][] = [
    ['malformed JSON', '{"mutations": [', ''],
    ['wrong types', { mutations: [{ ...aPatientCreate(), data: { givenName: 42, facilityId: 'f-1' } }] }, 'mutations[0].data.givenName'],
    ['unknown entity', { mutations: [{ ...aPatientCreate(), entity: 'spaceships' }] }, 'mutations[0].entity'],
    ['unknown op', { mutations: [{ ...aPatientCreate(), op: 'upsert' }] }, 'mutations[0].op'],
    ['missing baseVersion', { mutations: [{ clientMutationId: randomUUID(), entity: 'patients', op: 'update', id: randomUUID(), data: { phone: '1' } }] }, 'mutations[0].baseVersion'],
    ['non-array mutations', { mutations: 'all of them' }, 'mutations'],
    ['unknown field', { mutations: [aPatientCreate({ data: { favouriteColour: 'blue' } })] }, 'mutations[0].data.favouriteColour'],
  ];

  it.each(cases)('answers %s with 400 and paths, never 500, storing nothing', async (_name, body, path) => {
    const before = await stored();
    const r = await push(p.baseUrl, token, body);
    expect(r.status).toBe(400);
    expect(r.json.error?.code).toBe('VALIDATION_FAILED');
    expect(r.json.error?.details?.map((d) => d.path)).toContain(path);
    expect(await stored()).toBe(before);
  });

  it('a valid mutation in an invalid batch is not stored either', async () => {
    const before = await stored();
    const r = await push(p.baseUrl, token, { mutations: [aPatientCreate(), { ...aPatientCreate(), op: 'nope' }] });
    expect(r.status).toBe(400);
    expect(r.json.error?.details?.map((d) => d.path)).toEqual(['mutations[1].op']);
    expect(await stored()).toBe(before);
  });
});
