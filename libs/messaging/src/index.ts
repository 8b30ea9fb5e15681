export * from './nats-connection';
export * from './nats-security';
export * from './streams';
export * from './cloud-event';
export * from './outbox-relay';
export * from './durable-consumer';
export * from './binary-replies';
