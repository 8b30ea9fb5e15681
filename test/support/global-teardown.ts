export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __PG_CONTAINER__?: { stop(): Promise<unknown> }; __NATS_CONTAINER__?: { stop(): Promise<unknown> } };
  await g.__PG_CONTAINER__?.stop();
  await g.__NATS_CONTAINER__?.stop();
}
