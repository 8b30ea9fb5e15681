export * from './registry';
export * from './validation';
export * from './canonical';
export * from './records';
export * from './decide';
export * from './ordering';
export * from './audit-event';
export * from './cursor';
