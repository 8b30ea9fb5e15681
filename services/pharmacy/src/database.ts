import { DatabasePlan, appGrants, relayGrants } from '@clinisync/persistence';
import { CreatePharmacySchema1763856000000 } from './migrations/1763856000000-create-pharmacy-schema';

/** The pharmacy schema, its migrations and the access of the non-owner roles. */
export const pharmacyDatabasePlan: DatabasePlan = {
  service: 'pharmacy',
  schema: 'pharmacy',
  migrations: [CreatePharmacySchema1763856000000],
  access: (roles) => [...appGrants('pharmacy', roles), ...relayGrants('pharmacy', roles)],
};
