import { DatabasePlan, appGrants } from '@clinisync/persistence';
import { CreateSyncIngestSchema1763769600000 } from './migrations/1763769600000-create-sync-ingest-schema';

export const syncIngestDatabasePlan: DatabasePlan = {
  service: 'sync-ingest',
  schema: 'sync_ingest',
  migrations: [CreateSyncIngestSchema1763769600000],
  access: (roles) => appGrants('sync_ingest', roles),
};
