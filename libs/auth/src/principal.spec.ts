import { AuthError } from './auth.errors';
import { Principal, principalFromClaims, worksAtFacility } from './principal';

const valid = { sub: 'u1', tid: 't1', roles: ['nurse'], facilities: ['f-1'] };

describe('principalFromClaims', () => {
  it('maps claims to a principal', () => {
    expect(principalFromClaims({ ...valid, lic: ['controlled-substances'], iss: 'x', aud: 'y' })).toEqual({
      sub: 'u1',
      tenantId: 't1',
      roles: ['nurse'],
      facilities: ['f-1'],
      licences: ['controlled-substances'],
    });
  });

  it.each<[string, Record<string, unknown>, Partial<Principal>]>([
    [
      'absent roles, facilities and lic are empty',
      { sub: 'u1', tid: 't1' },
      { roles: [], facilities: [], licences: [] },
    ],
    [
      'a single lic string becomes a list',
      { ...valid, lic: 'controlled-substances' },
      { licences: ['controlled-substances'] },
    ],
    ['tid with the full safe alphabet', { ...valid, tid: 'Tenant_01-a' }, { tenantId: 'Tenant_01-a' }],
    ['tid of 64 characters', { ...valid, tid: 't'.repeat(64) }, { tenantId: 't'.repeat(64) }],
  ])('%s', (_case, claims, expected) => {
    expect(principalFromClaims(claims)).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>]>([
    ['missing sub', { ...valid, sub: undefined }],
    ['numeric sub', { ...valid, sub: 1 }],
    ['missing tid', { ...valid, tid: undefined }],
    ['tid with a dot (NATS subject separator)', { ...valid, tid: 't1.t2' }],
    ['tid with a wildcard', { ...valid, tid: 't*' }],
    ['tid of 65 characters', { ...valid, tid: 't'.repeat(65) }],
    ['unknown role', { ...valid, roles: ['nurse', 'root'] }],
    ['roles as a string', { ...valid, roles: 'nurse' }],
    ['facilities as a string', { ...valid, facilities: 'f-1' }],
    ['lic with a non-string', { ...valid, lic: ['a', 1] }],
  ])('throws AuthError for %s', (_case, claims) => {
    expect(() => principalFromClaims(claims)).toThrow(AuthError);
  });
});

describe('worksAtFacility', () => {
  const p = (facilities: string[]): Principal => ({
    sub: 'u1',
    tenantId: 't1',
    roles: [],
    facilities,
    licences: [],
  });

  it.each<[string[], string, boolean]>([
    [['f-1', 'f-2'], 'f-2', true],
    [['f-1'], 'f-2', false],
    [['*'], 'anything', true],
    [[], 'f-1', false],
  ])('%j at %s -> %p', (facilities, facilityId, expected) => {
    expect(worksAtFacility(p(facilities), facilityId)).toBe(expected);
  });
});
