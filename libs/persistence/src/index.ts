export * from './tx';
export * from './tenant-transactions';
export * from './data-source';
export * from './provisioning';
export * from './outbox.repository';
export * from './inbox.repository';
export * from './text-columns';
