import { dropModuleInboxMigration } from '@clinisync/persistence';

/** Push spine v2: the mutation ledger replaced the inventory inbox. Never edit once landed. */
export const DropInventoryInbox1796688000000 = dropModuleInboxMigration('inventory', 'DropInventoryInbox1796688000000');
