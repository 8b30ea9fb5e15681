import { dropModuleInboxMigration } from '@clinisync/persistence';

/** Push spine v2: the mutation ledger replaced the patients inbox. Never edit once landed. */
export const DropPatientsInbox1796688000000 = dropModuleInboxMigration('patients', 'DropPatientsInbox1796688000000');
