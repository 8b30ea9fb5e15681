import { ROLES } from '@clinisync/contracts';
import { defineAbilityFor, entitySubject } from '@clinisync/auth';

// Adjustments (kind: adjust) are restricted to pharmacists and admins by the ability alone (see
// stock-movement.rules.ts). This tripwire fails the moment another role may create movements, so
// that change has to come with an explicit rule for adjustments.
describe('stock movement authorization (adjustments rely on it)', () => {
  it.each(ROLES.map((r) => [r, r === 'pharmacist' || r === 'admin'] as const))(
    '%s may create an adjust movement -> %s',
    (role, allowed) => {
      const ability = defineAbilityFor({
        sub: 'u',
        tenantId: 't1',
        roles: [role],
        facilities: ['*'],
        licences: ['controlled-substances'],
      });
      expect(
        ability.can('create', entitySubject('stock_movements', { facilityId: 'f-1', kind: 'adjust' })),
      ).toBe(allowed);
    },
  );

  it('no role may write a stock level', () => {
    const ability = defineAbilityFor({
      sub: 'u',
      tenantId: 't1',
      roles: [...ROLES],
      facilities: ['*'],
      licences: ['controlled-substances'],
    });
    for (const op of ['create', 'update', 'delete'] as const)
      expect(ability.can(op, entitySubject('stock_levels', { facilityId: 'f-1' }))).toBe(false);
  });
});
