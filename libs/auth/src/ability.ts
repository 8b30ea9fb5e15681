import { AbilityBuilder, MongoAbility, MongoQuery, createMongoAbility, subject as caslSubject } from '@casl/ability';
import { ALL_FACILITIES, LICENCE_CONTROLLED_SUBSTANCES } from '@clinisync/contracts';
import { Principal } from './principal';

export type Action = 'create' | 'update' | 'delete' | 'read' | 'resolve';
/** Entity names of the registry plus platform resources. */
export type SubjectName = string;
export type AppAbility = MongoAbility;

const WRITE: Action[] = ['create', 'update', 'delete', 'read'];
const CLINICAL = ['patients', 'visits', 'vitals', 'problems', 'clinical_notes', 'appointments', 'prescriptions', 'prescription_items'];

/** Platform resources that are not registry entities. */
export const Resource = { AuditTrail: 'AuditTrail', SyncStats: 'SyncStats', Conflict: 'Conflict' } as const;

/**
 * RBAC by role and ABAC by facility and licence (ARCHITECTURE.md table). Facility-scoped
 * subjects carry `facilityId`; dispensing subjects carry `controlled` from the drug catalogue.
 */
export function defineAbilityFor(p: Principal): AppAbility {
  const builder = new AbilityBuilder<AppAbility>(createMongoAbility);
  const can = (action: Action | Action[], subjects: SubjectName | SubjectName[], conditions?: MongoQuery) =>
    conditions ? builder.can(action, subjects, conditions) : builder.can(action, subjects);
  const atFacility: MongoQuery = p.facilities.includes(ALL_FACILITIES) ? {} : { facilityId: { $in: p.facilities } };

  // Reference data goes to every user of the tenant.
  can('read', 'drug_catalogue');

  for (const role of p.roles) {
    switch (role) {
      case 'clerk':
        can(WRITE, ['patients', 'appointments'], atFacility);
        break;
      case 'nurse':
        can(WRITE, ['patients', 'visits', 'vitals', 'clinical_notes'], atFacility);
        can('read', ['prescriptions', 'prescription_items', 'appointments', 'problems'], atFacility);
        break;
      case 'clinician':
        can(WRITE, CLINICAL, atFacility);
        can('read', ['dispensing_records'], atFacility);
        can('resolve', CLINICAL, atFacility);
        break;
      case 'pharmacist':
        can('read', ['patients', 'prescriptions', 'prescription_items', 'dispensing_records', 'stock_movements', 'stock_levels'], atFacility);
        can('create', 'dispensing_records', { ...atFacility, controlled: false });
        if (p.licences.includes(LICENCE_CONTROLLED_SUBSTANCES)) can('create', 'dispensing_records', atFacility);
        can('create', 'stock_movements', atFacility);
        can('resolve', ['dispensing_records', 'stock_movements'], atFacility);
        break;
      case 'admin':
        can(['create', 'update', 'delete'], 'drug_catalogue');
        can(['create', 'read'], 'stock_movements', atFacility);
        can('read', 'stock_levels', atFacility);
        can('resolve', [...CLINICAL, 'drug_catalogue', 'dispensing_records', 'stock_movements']);
        can('read', [Resource.SyncStats, Resource.Conflict]);
        break;
      case 'auditor':
        can('read', Resource.AuditTrail);
        break;
    }
  }
  return builder.build();
}

/** A CASL subject for an entity record's authorization-relevant attributes. */
export function entitySubject(entity: string, attrs: Record<string, unknown>) {
  return caslSubject(entity, { ...attrs });
}
