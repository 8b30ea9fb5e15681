export * from './record.repository';
export * from './batch-applier';
export * from './module-config';
export * from './module-commands.errors';
export * from './module-commands.service';
export * from './module-commands.filters';
export * from './module-host.module';
export * from './bootstrap';
