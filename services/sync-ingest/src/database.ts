import { DatabasePlan, appGrants, relayGrants } from '@clinisync/persistence';
import { CreateSyncIngestSchema1763769600000 } from './migrations/1763769600000-create-sync-ingest-schema';
import { AddConflictsAndOutbox1763942400000 } from './migrations/1763942400000-add-conflicts-and-outbox';
import { LightenSyncQueue1796515200000 } from './migrations/1796515200000-lighten-sync-queue';

export const syncIngestDatabasePlan: DatabasePlan = {
  service: 'sync-ingest',
  schema: 'sync_ingest',
  migrations: [CreateSyncIngestSchema1763769600000, AddConflictsAndOutbox1763942400000, LightenSyncQueue1796515200000],
  access: (roles) => [...appGrants('sync_ingest', roles), ...relayGrants('sync_ingest', roles)],
};
