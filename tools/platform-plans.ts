import { DatabasePlan } from '@clinisync/persistence';
import { syncIngestDatabasePlan } from '../services/sync-ingest/src/database';
import { patientsDatabasePlan } from '../services/patients/src/database';

/** Every service's database plan, in migration order. */
export const PLATFORM_PLANS: DatabasePlan[] = [syncIngestDatabasePlan, patientsDatabasePlan];
