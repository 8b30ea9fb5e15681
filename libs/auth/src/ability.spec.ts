import { ROLES, Role } from '@clinisync/contracts';
import { Action, Resource, defineAbilityFor, entitySubject } from './ability';
import { Principal } from './principal';

// ---- builders -------------------------------------------------------------------------------

function aPrincipal(overrides: Partial<Principal> = {}): Principal {
  return { sub: 'u1', tenantId: 't1', roles: [], facilities: ['f-1'], licences: [], ...overrides };
}

const as = (roles: Role[], overrides: Partial<Principal> = {}) =>
  defineAbilityFor(aPrincipal({ roles, ...overrides }));

/** Whether `roles` (at facility f-1, no licence) may do `action` on `entity` at f-1. */
function may(
  roles: Role[],
  action: Action,
  entity: string,
  attrs: Record<string, unknown> = { facilityId: 'f-1' },
): boolean {
  return as(roles).can(action, entitySubject(entity, attrs));
}

const CLINICAL = [
  'patients',
  'visits',
  'vitals',
  'problems',
  'clinical_notes',
  'appointments',
  'prescriptions',
  'prescription_items',
  'dispensing_records',
];
const ACTIONS: Action[] = ['create', 'update', 'delete', 'read', 'resolve'];

// ---- RBAC: the ARCHITECTURE.md role table ---------------------------------------------------

describe('defineAbilityFor: roles', () => {
  it.each<[Role, Action, string, boolean]>([
    // clerk: patients (demographics), appointments
    ['clerk', 'create', 'patients', true],
    ['clerk', 'update', 'patients', true],
    ['clerk', 'create', 'appointments', true],
    ['clerk', 'update', 'appointments', true],
    ['clerk', 'create', 'visits', false],
    ['clerk', 'read', 'visits', false],
    ['clerk', 'create', 'vitals', false],
    ['clerk', 'read', 'prescriptions', false],
    ['clerk', 'resolve', 'patients', false],
    // nurse: patients, visits, vitals, clinical notes; read prescriptions
    ['nurse', 'create', 'patients', true],
    ['nurse', 'create', 'visits', true],
    ['nurse', 'create', 'vitals', true],
    ['nurse', 'read', 'vitals', true],
    ['nurse', 'create', 'clinical_notes', true],
    ['nurse', 'read', 'prescriptions', true],
    ['nurse', 'create', 'prescriptions', false],
    ['nurse', 'update', 'prescriptions', false],
    ['nurse', 'delete', 'prescriptions', false],
    ['nurse', 'create', 'prescription_items', false],
    ['nurse', 'create', 'dispensing_records', false],
    ['nurse', 'create', 'stock_movements', false],
    ['nurse', 'resolve', 'patients', false],
    // clinician: all clinical entities incl. problems and prescriptions; resolve conflicts on them
    ['clinician', 'create', 'problems', true],
    ['clinician', 'create', 'prescriptions', true],
    ['clinician', 'create', 'prescription_items', true],
    ['clinician', 'update', 'visits', true],
    ['clinician', 'resolve', 'patients', true],
    ['clinician', 'resolve', 'prescriptions', true],
    ['clinician', 'read', 'dispensing_records', true],
    ['clinician', 'create', 'dispensing_records', false],
    ['clinician', 'create', 'stock_movements', false],
    ['clinician', 'create', 'drug_catalogue', false],
    // pharmacist: dispensing, stock movements
    ['pharmacist', 'create', 'stock_movements', true],
    ['pharmacist', 'read', 'prescriptions', true],
    ['pharmacist', 'create', 'prescriptions', false],
    ['pharmacist', 'create', 'patients', false],
    ['pharmacist', 'update', 'dispensing_records', false],
    ['pharmacist', 'create', 'stock_levels', false],
    // admin: drug catalogue, any conflict
    ['admin', 'create', 'drug_catalogue', true],
    ['admin', 'update', 'drug_catalogue', true],
    ['admin', 'resolve', 'patients', true],
    ['admin', 'resolve', 'drug_catalogue', true],
    ['admin', 'create', 'patients', false],
    ['admin', 'create', 'stock_levels', false],
  ])('%s %s %s -> %p', (role, action, entity, expected) => {
    expect(may([role], action, entity)).toBe(expected);
  });

  it('unions the permissions of several roles', () => {
    expect(may(['clerk'], 'create', 'visits')).toBe(false);
    expect(may(['clerk', 'nurse'], 'create', 'visits')).toBe(true);
    expect(may(['clerk', 'nurse'], 'create', 'appointments')).toBe(true);
  });

  it('grants nothing but the drug catalogue to a principal without roles', () => {
    for (const entity of CLINICAL) for (const action of ACTIONS) expect(may([], action, entity)).toBe(false);
    expect(may([], 'read', 'drug_catalogue', {})).toBe(true);
  });
});

describe('defineAbilityFor: pharmacist and controlled substances', () => {
  const dispense = (licences: string[], attrs: Record<string, unknown>) =>
    as(['pharmacist'], { licences }).can('create', entitySubject('dispensing_records', attrs));

  it.each<[string, string[], Record<string, unknown>, boolean]>([
    ['non-controlled drug, no licence', [], { facilityId: 'f-1', controlled: false }, true],
    ['controlled drug, no licence', [], { facilityId: 'f-1', controlled: true }, false],
    ['controlled drug, an unrelated licence', ['radiology'], { facilityId: 'f-1', controlled: true }, false],
    [
      'controlled drug, controlled-substances licence',
      ['controlled-substances'],
      { facilityId: 'f-1', controlled: true },
      true,
    ],
    ['unknown controlled flag, no licence (fails closed)', [], { facilityId: 'f-1' }, false],
    [
      'non-controlled drug at a facility outside the principal',
      [],
      { facilityId: 'f-2', controlled: false },
      false,
    ],
    [
      'controlled drug with licence at a facility outside the principal',
      ['controlled-substances'],
      { facilityId: 'f-2', controlled: true },
      false,
    ],
  ])('%s -> %p', (_case, licences, attrs, expected) => {
    expect(dispense(licences, attrs)).toBe(expected);
  });
});

// ---- ABAC: facilities -----------------------------------------------------------------------

describe('defineAbilityFor: facilities', () => {
  it.each<[string, string[], string, boolean]>([
    ['a facility of the principal', ['f-1', 'f-2'], 'f-2', true],
    ['a facility outside the principal', ['f-1', 'f-2'], 'f-9', false],
    ['any facility with "*"', ['*'], 'f-9', true],
    ['nothing with no facilities', [], 'f-1', false],
    ['a facility id that only looks similar', ['f-1'], 'f-10', false],
  ])('nurse writing vitals at %s -> %p', (_case, facilities, facilityId, expected) => {
    const ability = as(['nurse'], { facilities });
    expect(ability.can('create', entitySubject('vitals', { facilityId }))).toBe(expected);
    expect(ability.can('read', entitySubject('vitals', { facilityId }))).toBe(expected);
  });

  it.each(['clerk', 'nurse', 'clinician', 'pharmacist'] as Role[])(
    'denies %s reading patients elsewhere',
    (role) => {
      const ability = as([role]);
      expect(ability.can('read', entitySubject('patients', { facilityId: 'f-1' }))).toBe(true);
      expect(ability.can('read', entitySubject('patients', { facilityId: 'f-2' }))).toBe(false);
    },
  );

  it('denies a clinician resolving a conflict at another facility', () => {
    expect(may(['clinician'], 'resolve', 'patients', { facilityId: 'f-2' })).toBe(false);
  });

  it('denies a subject that carries no facilityId to a facility-bound principal', () => {
    expect(may(['nurse'], 'create', 'patients', {})).toBe(false);
  });
});

// ---- auditor and reference data -------------------------------------------------------------

describe('defineAbilityFor: auditor', () => {
  const auditor = as(['auditor'], { facilities: ['*'] });

  it('reads the audit trail', () => {
    expect(auditor.can('read', Resource.AuditTrail)).toBe(true);
    expect(auditor.can('read', entitySubject(Resource.AuditTrail, {}))).toBe(true);
  });

  it.each(CLINICAL.flatMap((entity) => ACTIONS.map((action) => [action, entity] as const)))(
    'may not %s %s',
    (action, entity) => {
      expect(auditor.can(action, entitySubject(entity, { facilityId: 'f-1', controlled: false }))).toBe(
        false,
      );
    },
  );

  it('may not write the audit trail, stock or the catalogue', () => {
    expect(auditor.can('create', Resource.AuditTrail)).toBe(false);
    expect(auditor.can('update', Resource.AuditTrail)).toBe(false);
    expect(auditor.can('create', entitySubject('stock_movements', { facilityId: 'f-1' }))).toBe(false);
    expect(auditor.can('create', entitySubject('drug_catalogue', {}))).toBe(false);
  });

  it('is the only role reading the audit trail', () => {
    for (const role of ROLES.filter((r) => r !== 'auditor'))
      expect(as([role]).can('read', Resource.AuditTrail)).toBe(false);
  });
});

describe('defineAbilityFor: reference data', () => {
  it.each(ROLES.map((r) => [r]))('%s reads the drug catalogue regardless of facilities', (role) => {
    const ability = as([role], { facilities: [] });
    expect(ability.can('read', entitySubject('drug_catalogue', {}))).toBe(true);
    expect(ability.can('read', entitySubject('drug_catalogue', { facilityId: 'f-9' }))).toBe(true);
  });

  it.each(ROLES.filter((r) => r !== 'admin').map((r) => [r]))(
    '%s may not write the drug catalogue',
    (role) => {
      const ability = as([role]);
      for (const action of ['create', 'update', 'delete'] as Action[]) {
        expect(ability.can(action, entitySubject('drug_catalogue', {}))).toBe(false);
      }
    },
  );
});

describe('entitySubject', () => {
  it('copies the attributes (later edits to the source do not change the decision)', () => {
    const attrs: Record<string, unknown> = { facilityId: 'f-1', controlled: false };
    const s = entitySubject('dispensing_records', attrs);
    attrs.controlled = true;
    expect(as(['pharmacist']).can('create', s)).toBe(true);
  });
});
