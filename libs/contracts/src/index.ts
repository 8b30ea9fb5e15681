export * from './roles';
export * from './errors';
export * from './records';
export * from './push';
export * from './commands';
export * from './events';
export * from './push.dto';
export * from './audit';
