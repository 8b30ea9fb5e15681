import { DatabasePlan, ledgerDatabasePlan } from '@clinisync/persistence';
import { syncIngestDatabasePlan } from '../services/sync-ingest/src/database';
import { patientsDatabasePlan } from '../services/patients/src/database';
import { pharmacyDatabasePlan } from '../services/pharmacy/src/database';
import { inventoryDatabasePlan } from '../services/inventory/src/database';
import { auditDatabasePlan } from '../services/audit/src/database';

/** Every service's database plan, in migration order (the shared mutation ledger first: its creation copies the old inboxes). */
export const PLATFORM_PLANS: DatabasePlan[] = [ledgerDatabasePlan, syncIngestDatabasePlan, patientsDatabasePlan, pharmacyDatabasePlan, inventoryDatabasePlan, auditDatabasePlan];
