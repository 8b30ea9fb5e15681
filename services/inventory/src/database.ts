import { DatabasePlan, appGrants, relayGrants } from '@clinisync/persistence';
import { CreateInventorySchema1763856000000 } from './migrations/1763856000000-create-inventory-schema';
import { AddInventoryRecordWireJson1796515200000 } from './migrations/1796515200000-add-record-wire-json';
import { DropInventoryInbox1796688000000 } from './migrations/1796688000000-drop-inbox';

/** The inventory schema, its migrations and the access of the non-owner roles. */
export const inventoryDatabasePlan: DatabasePlan = {
  service: 'inventory',
  schema: 'inventory',
  migrations: [CreateInventorySchema1763856000000, AddInventoryRecordWireJson1796515200000, DropInventoryInbox1796688000000],
  access: (roles) => [...appGrants('inventory', roles), ...relayGrants('inventory', roles)],
};
