import { Platform, startPlatform } from '../support/platform';
import { PullBody, aDelete, aPatientCreate, aPatientUpdate, aVisitCreate, newId, pull, pullAll, pullUntil, push } from '../support/builders';

const PATIENT_ENTITIES = 'patients,visits,vitals,problems,clinical_notes,appointments';

describe('pull without gaps (PROTOCOL.md Pull)', () => {
  let p: Platform;
  let nurse: string;
  beforeAll(async () => {
    p = await startPlatform();
    nurse = await p.token({ tenantId: 'tp', roles: ['nurse', 'clinician'], facilities: ['*'] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const ids = (pages: { changes: Record<string, { created: { id: string }[]; updated: { id: string }[] }> }[], entity = 'patients') =>
    pages.flatMap((pg) => [...(pg.changes[entity]?.created ?? []), ...(pg.changes[entity]?.updated ?? [])].map((r) => r.id));

  it('delivers a transaction that commits late instead of skipping it (out-of-order commit)', async () => {
    const owner = await p.db.ownerDataSource();
    const insert = `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, version, created_at, updated_at) VALUES ('tp', $1, 'f-1', 'Late', 1, now(), now())`;
    const start = await pullAll(p.baseUrl, nurse, { entities: 'patients' });
    const t1 = owner.createQueryRunner();
    const t2 = owner.createQueryRunner();
    await t1.connect();
    await t2.connect();
    const late = newId();
    const early = newId();
    await t1.startTransaction();
    await t1.query(insert, [late]); // T1 writes first and stays open
    await t2.startTransaction();
    await t2.query(insert, [early]);
    await t2.commitTransaction(); // T2 commits first
    const during = await pullAll(p.baseUrl, nurse, { entities: 'patients', cursor: start.cursor });
    expect(ids(during.pages)).not.toContain(late);
    // Fresh: what committed is in the very next pull, though an older transaction is still open.
    expect(ids(during.pages)).toContain(early);
    await t1.commitTransaction();
    const after = await pullUntil(p.baseUrl, nurse, { entities: 'patients', cursor: during.cursor }, (pg) => ids(pg).includes(late));
    expect(ids([...during.pages, ...after.pages])).toEqual(expect.arrayContaining([late, early]));
    expect(ids(after.pages)).toEqual([late]); // early came once
    await t1.release();
    await t2.release();
    await owner.destroy();
  });

  it("returns a push's writes to a pull given its checkpoint, with no retry, while another transaction stays open", async () => {
    const token = await p.token({ tenantId: 'tckp', roles: ['nurse'], facilities: ['*'] });
    const { cursor } = await pullAll(p.baseUrl, token, { entities: 'patients,visits' });
    const owner = await p.db.ownerDataSource();
    const open = owner.createQueryRunner();
    await open.connect();
    await open.startTransaction();
    await open.query('SELECT pg_current_xact_id()'); // an xid in flight, older than the push
    try {
      const patient = aPatientCreate();
      const pushed = await push(p.baseUrl, token, { mutations: [patient, aVisitCreate(patient.id)] });
      expect(typeof pushed.json.checkpoint).toBe('string');
      const got = await pullAll(p.baseUrl, token, { entities: 'patients,visits', cursor, checkpoint: pushed.json.checkpoint as string });
      expect(ids(got.pages)).toEqual([patient.id]);
      expect(ids(got.pages, 'visits')).toHaveLength(1);
      // A checkpoint is signed and tenant-bound like a cursor.
      for (const bad of ['garbage', cursor, `${String(pushed.json.checkpoint).slice(0, -2)}xx`]) {
        const r = await pull(p.baseUrl, token, { entities: 'patients', checkpoint: bad });
        expect(r.status).toBe(400);
        expect(r.json.error?.code).toBe('INVALID_CURSOR');
      }
      const other = await p.token({ tenantId: 'tckp-other', roles: ['nurse'], facilities: ['*'] });
      expect((await pull(p.baseUrl, other, { checkpoint: pushed.json.checkpoint as string })).status).toBe(400);
    } finally {
      await open.rollbackTransaction();
      await open.release();
      await owner.destroy();
    }
  });

  it('given a checkpoint, never answers from a page fetched ahead before the push', async () => {
    const token = await p.token({ tenantId: 'tckp-ahead', roles: ['nurse'], facilities: ['f-1'] });
    await push(p.baseUrl, token, { mutations: Array.from({ length: 3 }, () => aPatientCreate()) });
    // Page A fills a window; B drains it (carried over, so hasMore); C, a fresh window, is
    // fetched ahead as B is answered, before the push below.
    const a = await pull(p.baseUrl, token, { entities: 'patients', limit: '2' });
    const b = await pull(p.baseUrl, token, { entities: 'patients', limit: '2', cursor: a.json.cursor });
    expect([a.json.hasMore, b.json.hasMore]).toEqual([true, true]);
    await new Promise((r) => setTimeout(r, 200));
    const mine = aPatientCreate();
    const pushed = await push(p.baseUrl, token, { mutations: [mine] });
    const rest = await pullAll(p.baseUrl, token, { entities: 'patients', limit: '2', cursor: b.json.cursor, checkpoint: pushed.json.checkpoint as string });
    expect(ids(rest.pages)).toEqual([mine.id]);
  });

  it('with 20 concurrent writers and a puller in a loop, the pulled ids equal the committed ids', async () => {
    const token = await p.token({ tenantId: 'tw', roles: ['nurse'], facilities: ['f-1'] });
    const committed = new Set<string>();
    const pulled = new Map<string, number>();
    let cursor: string | undefined;
    let writing = true;
    const puller = (async () => {
      while (writing) {
        const r = await pull(p.baseUrl, token, { entities: 'patients', cursor, limit: '50' });
        for (const rec of [...r.json.changes.patients.created, ...r.json.changes.patients.updated]) pulled.set(rec.id, (pulled.get(rec.id) ?? 0) + 1);
        cursor = r.json.cursor;
      }
    })();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let b = 0; b < 3; b++) {
          const batch = Array.from({ length: 10 }, () => aPatientCreate());
          const r = await push(p.baseUrl, token, { mutations: batch });
          batch.forEach((m, i) => r.json.results?.[i].status === 'applied' && committed.add(m.id));
        }
      }),
    );
    writing = false;
    await puller;
    const seen = new Set(pulled.keys());
    const rest = await pullUntil(p.baseUrl, token, { entities: 'patients', cursor }, (pg) => [...committed].every((id) => seen.has(id) || ids(pg).includes(id)));
    for (const id of ids(rest.pages)) pulled.set(id, (pulled.get(id) ?? 0) + 1);
    expect(committed.size).toBe(600);
    expect(new Set(pulled.keys())).toEqual(committed);
    expect([...pulled.values()].every((n) => n === 1)).toBe(true); // creates only: duplicates would need a new version
  });

  it('pages through 10,000 records with limit 1000, each exactly once at its last version, deletes as deleted', async () => {
    const token = await p.token({ tenantId: 'tpage', roles: ['nurse'], facilities: ['f-1'] });
    const created: string[] = [];
    for (let b = 0; b < 20; b++) {
      const batch = Array.from({ length: 500 }, () => aPatientCreate());
      await push(p.baseUrl, token, { mutations: batch });
      created.push(...batch.map((m) => m.id));
    }
    const updated = created.slice(0, 300);
    const deleted = created.slice(300, 400);
    await push(p.baseUrl, token, { mutations: updated.map((id) => aPatientUpdate(id, 1, { phone: '+2547' })) });
    await push(p.baseUrl, token, { mutations: deleted.map((id) => aDelete('patients', id, 1)) });
    const count = (pg: PullBody[]) => pg.reduce((n, x) => n + x.changes.patients.created.length + x.changes.patients.updated.length + x.changes.patients.deleted.length, 0);
    const { pages } = await pullUntil(p.baseUrl, token, { entities: 'patients', limit: '1000' }, (pg) => count(pg) >= 10_000);
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(pages.every((pg) => pg.changes.patients.created.length + pg.changes.patients.updated.length + pg.changes.patients.deleted.length <= 1000)).toBe(true);
    const live = pages.flatMap((pg) => [...pg.changes.patients.created, ...pg.changes.patients.updated]);
    const gone = pages.flatMap((pg) => pg.changes.patients.deleted);
    expect(live).toHaveLength(9_900);
    expect(new Set(live.map((r) => r.id)).size).toBe(9_900);
    expect(new Set(gone)).toEqual(new Set(deleted));
    const versions = new Map(live.map((r) => [r.id, r.version]));
    expect(updated.every((id) => versions.get(id) === 2)).toBe(true);
    expect(live.filter((r) => !updated.includes(r.id)).every((r) => r.version === 1)).toBe(true);
  });

  it('fetches the next page ahead while the device reads one, and still delivers a change made in between', async () => {
    const token = await p.token({ tenantId: 'tahead', roles: ['nurse'], facilities: ['f-1'] });
    const hits = async () => {
      const text = await (await fetch(`${p.baseUrl}/metrics`)).text();
      return Number(/clinisync_pull_read_ahead_total\{[^}]*outcome="hit"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const batch = Array.from({ length: 30 }, () => aPatientCreate());
    await push(p.baseUrl, token, { mutations: batch });
    await pullUntil(p.baseUrl, token, { entities: 'patients' }, (pg) => ids(pg).length >= 30); // committed and visible
    const before = await hits();

    // Page 1 of 10; page 2 is fetched at once. A record is written while the device holds page 1.
    const first = await pull(p.baseUrl, token, { entities: 'patients', limit: '10' });
    expect(first.json.hasMore).toBe(true);
    const late = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [late] });
    const rest = await pullUntil(p.baseUrl, token, { entities: 'patients', limit: '10', cursor: first.json.cursor }, (pg) => ids(pg).includes(late.id));

    const all = ids([first.json, ...rest.pages]);
    expect(all.sort()).toEqual([...batch.map((m) => m.id), late.id].sort()); // each once, the late one too
    expect(await hits()).toBeGreaterThanOrEqual(before + 3); // pages 2-4 came from the read-ahead
  });

  it('answers a tampered or foreign cursor with 400 INVALID_CURSOR', async () => {
    const { cursor } = await pullAll(p.baseUrl, nurse, { entities: 'patients' });
    const [body, mac] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), p: { patients: ['1', '1'] } })).toString('base64url');
    for (const bad of [`${forged}.${mac}`, `${body}.${mac.slice(0, -2)}xx`, 'garbage', `${body}`]) {
      const r = await pull(p.baseUrl, nurse, { cursor: bad });
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe('INVALID_CURSOR');
    }
    const otherTenant = await p.token({ tenantId: 'other', roles: ['nurse'], facilities: ['*'] });
    const foreign = await pull(p.baseUrl, otherTenant, { cursor });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error?.code).toBe('INVALID_CURSOR');
  });

  it("never returns another tenant's records", async () => {
    const a = await p.token({ tenantId: 'ta', roles: ['nurse'], facilities: ['*'] });
    const b = await p.token({ tenantId: 'tb', roles: ['nurse'], facilities: ['*'] });
    const mine = aPatientCreate();
    const theirs = aPatientCreate();
    await push(p.baseUrl, a, { mutations: [mine] });
    await push(p.baseUrl, b, { mutations: [theirs] });
    const got = ids((await pullUntil(p.baseUrl, a, { entities: 'patients' }, (pg) => ids(pg).includes(mine.id))).pages);
    expect(got).toContain(mine.id);
    expect(got).not.toContain(theirs.id);
  });

  it("returns only the caller's facilities, and every facility for *", async () => {
    const writer = await p.token({ tenantId: 'tf', roles: ['nurse'], facilities: ['*'] });
    const atF1 = aPatientCreate({ data: { facilityId: 'f-1' } });
    const atF2 = aPatientCreate({ data: { facilityId: 'f-2' } });
    await push(p.baseUrl, writer, { mutations: [atF1, atF2] });
    const f1Nurse = await p.token({ tenantId: 'tf', roles: ['nurse'], facilities: ['f-1'] });
    const f1 = ids((await pullUntil(p.baseUrl, f1Nurse, { entities: 'patients' }, (pg) => ids(pg).includes(atF1.id))).pages);
    expect(f1).toContain(atF1.id);
    expect(f1).not.toContain(atF2.id);
    const all = ids((await pullUntil(p.baseUrl, writer, { entities: 'patients' }, (pg) => ids(pg).includes(atF2.id))).pages);
    expect(all).toEqual(expect.arrayContaining([atF1.id, atF2.id]));
  });

  it('returns only the entities the role may read: a clerk gets no visits, an auditor no clinical data', async () => {
    const writer = await p.token({ tenantId: 'tr', roles: ['nurse'], facilities: ['*'] });
    const patient = aPatientCreate();
    await push(p.baseUrl, writer, { mutations: [patient, aVisitCreate(patient.id)] });
    const clerk = await p.token({ tenantId: 'tr', roles: ['clerk'], facilities: ['*'] });
    const clerkPages = await pullUntil(p.baseUrl, clerk, { entities: PATIENT_ENTITIES }, (pg) => ids(pg).includes(patient.id));
    expect(Object.keys(clerkPages.pages[0].changes).sort()).toEqual(['appointments', 'patients']);
    const auditor = await p.token({ tenantId: 'tr', roles: ['auditor'], facilities: ['*'] });
    const auditorPage = await pull(p.baseUrl, auditor, { entities: PATIENT_ENTITIES });
    expect(auditorPage.status).toBe(200);
    expect(auditorPage.json.changes).toEqual({});
  });

  it('rejects an unknown entity filter and an out-of-range limit with 400', async () => {
    expect((await pull(p.baseUrl, nurse, { entities: 'spaceships' })).status).toBe(400);
    expect((await pull(p.baseUrl, nurse, { entities: 'patients', limit: '5001' })).status).toBe(400);
    expect((await pull(p.baseUrl, nurse, { entities: 'patients', limit: '0' })).status).toBe(400);
  });

  it('marks records created after the cursor as created and later edits as updated', async () => {
    const token = await p.token({ tenantId: 'tcu', roles: ['nurse'], facilities: ['*'] });
    const patient = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [patient] });
    const first = await pullUntil(p.baseUrl, token, { entities: 'patients' }, (pg) => ids(pg).includes(patient.id));
    expect(first.pages.flatMap((pg) => pg.changes.patients.created.map((r) => r.id))).toContain(patient.id);
    await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+1' })] });
    const fresh = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [fresh] });
    const next = await pullUntil(p.baseUrl, token, { entities: 'patients', cursor: first.cursor }, (pg) => ids(pg).includes(fresh.id) && ids(pg).includes(patient.id));
    expect(next.pages.flatMap((pg) => pg.changes.patients.updated.map((r) => r.id))).toEqual([patient.id]);
    expect(next.pages.flatMap((pg) => pg.changes.patients.created.map((r) => r.id))).toEqual([fresh.id]);
  });
});
