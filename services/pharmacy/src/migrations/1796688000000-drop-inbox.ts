import { dropModuleInboxMigration } from '@clinisync/persistence';

/** Push spine v2: the mutation ledger replaced the pharmacy inbox. Never edit once landed. */
export const DropPharmacyInbox1796688000000 = dropModuleInboxMigration('pharmacy', 'DropPharmacyInbox1796688000000');
