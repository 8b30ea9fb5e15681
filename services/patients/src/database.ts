import { DatabasePlan, appGrants, relayGrants } from '@clinisync/persistence';
import { CreatePatientsSchema1763769600000 } from './migrations/1763769600000-create-patients-schema';
import { AddPatientsRecordWireJson1796515200000 } from './migrations/1796515200000-add-record-wire-json';
import { DropPatientsInbox1796688000000 } from './migrations/1796688000000-drop-inbox';

/** The patients schema, its migrations and the access of the non-owner roles. */
export const patientsDatabasePlan: DatabasePlan = {
  service: 'patients',
  schema: 'patients',
  migrations: [CreatePatientsSchema1763769600000, AddPatientsRecordWireJson1796515200000, DropPatientsInbox1796688000000],
  access: (roles) => [...appGrants('patients', roles), ...relayGrants('patients', roles)],
};
