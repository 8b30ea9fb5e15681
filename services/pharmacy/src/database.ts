import { DatabasePlan, appGrants, relayGrants } from '@clinisync/persistence';
import { CreatePharmacySchema1763856000000 } from './migrations/1763856000000-create-pharmacy-schema';
import { AddPharmacyRecordWireJson1796515200000 } from './migrations/1796515200000-add-record-wire-json';
import { DropPharmacyInbox1796688000000 } from './migrations/1796688000000-drop-inbox';

/** The pharmacy schema, its migrations and the access of the non-owner roles. */
export const pharmacyDatabasePlan: DatabasePlan = {
  service: 'pharmacy',
  schema: 'pharmacy',
  migrations: [CreatePharmacySchema1763856000000, AddPharmacyRecordWireJson1796515200000, DropPharmacyInbox1796688000000],
  access: (roles) => [...appGrants('pharmacy', roles), ...relayGrants('pharmacy', roles)],
};
