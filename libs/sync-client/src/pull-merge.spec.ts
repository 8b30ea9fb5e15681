import fc from 'fast-check';
import { SyncRecord } from '@clinisync/contracts';
import { getEntity } from '@clinisync/sync-core';
import { mergePulledRecord } from './pull-merge';
import { LocalRecord } from './types';

const patients = getEntity('patients');
const T = '2026-11-21T10:00:00.000Z';

function local(overrides: Partial<LocalRecord> = {}, fields: Record<string, unknown> = {}): LocalRecord {
  return {
    id: 'p',
    version: 3,
    createdAt: T,
    updatedAt: T,
    deletedAt: null,
    status: 'synced',
    changed: [],
    remote: {},
    fields: {
      facilityId: 'f-1',
      givenName: 'Alice',
      familyName: null,
      sex: null,
      dateOfBirth: null,
      phone: '111',
      nationalId: null,
      address: null,
      ...fields,
    },
    ...overrides,
  };
}

function remote(
  version: number,
  fields: Record<string, unknown> = {},
  deletedAt: string | null = null,
): SyncRecord {
  return {
    id: 'p',
    version,
    createdAt: T,
    updatedAt: '2026-11-21T11:00:00.000Z',
    deletedAt,
    facilityId: 'f-1',
    givenName: 'Bob',
    familyName: null,
    sex: null,
    dateOfBirth: null,
    phone: '222',
    nationalId: null,
    address: null,
    ...fields,
  };
}

describe('mergePulledRecord (per-column rule)', () => {
  it.each([
    {
      name: 'no local record: the remote one is stored as synced',
      local: undefined,
      remote: remote(4),
      expect: {
        version: 4,
        status: 'synced',
        fields: expect.objectContaining({ givenName: 'Bob', phone: '222' }),
      },
    },
    {
      name: 'synced local record: remote wins in every column',
      local: local(),
      remote: remote(4),
      expect: {
        version: 4,
        status: 'synced',
        fields: expect.objectContaining({ givenName: 'Bob', phone: '222' }),
      },
    },
    {
      name: 'columns in _changed keep the local value; the others take the remote value (the WatermelonDB example)',
      local: local({ status: 'updated', changed: ['phone'] }),
      remote: remote(4),
      expect: {
        version: 4,
        status: 'updated',
        changed: ['phone'],
        fields: expect.objectContaining({ givenName: 'Bob', phone: '111' }),
        remote: { phone: '222' },
      },
    },
    {
      name: 'a locally deleted record stays deleted',
      local: local({ status: 'deleted', deletedAt: T }),
      remote: remote(4),
      expect: {
        version: 4,
        status: 'deleted',
        deletedAt: T,
        fields: expect.objectContaining({ givenName: 'Alice' }),
      },
    },
    {
      name: 'a remote tombstone is taken (deletes never resurrect)',
      local: local({ status: 'updated', changed: ['phone'] }),
      remote: remote(5, {}, '2026-11-21T12:00:00.000Z'),
      expect: { deletedAt: '2026-11-21T12:00:00.000Z', status: 'updated' },
    },
    {
      name: 'fields the server did not send keep their local value',
      local: local(),
      remote: (() => {
        const r = remote(4);
        delete r.phone;
        return r;
      })(),
      expect: { fields: expect.objectContaining({ phone: '111', givenName: 'Bob' }) },
    },
  ])('$name', ({ local: l, remote: r, expect: e }) => {
    expect(mergePulledRecord(patients, l, r)).toMatchObject(e);
  });

  it('never overwrites a newer local version', () => {
    expect(mergePulledRecord(patients, local({ version: 5 }), remote(4))).toBeUndefined();
  });

  it('re-applies an equal version (a replayed page repairs nothing it should not)', () => {
    expect(mergePulledRecord(patients, local({ version: 4 }), remote(4))).toMatchObject({
      version: 4,
      fields: expect.objectContaining({ givenName: 'Bob' }),
    });
  });

  it('property: locally changed columns keep their value, all others equal the remote value, and merging twice changes nothing', () => {
    const names = patients.fields.map((f) => f.name).filter((n) => n !== 'facilityId');
    fc.assert(
      fc.property(
        fc.subarray(names),
        fc.dictionary(fc.constantFrom(...names), fc.string({ maxLength: 5 })),
        (changed, values) => {
          const l = local({ status: changed.length ? 'updated' : 'synced', changed });
          const r = remote(9, values);
          const once = mergePulledRecord(patients, l, r) as LocalRecord;
          for (const f of names) expect(once.fields[f]).toEqual(changed.includes(f) ? l.fields[f] : r[f]);
          expect(mergePulledRecord(patients, once, r)).toEqual(once);
        },
      ),
    );
  });
});
