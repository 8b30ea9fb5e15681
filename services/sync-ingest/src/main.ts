import 'reflect-metadata';
import { createSyncIngestApp } from './bootstrap';
import { syncIngestConfig } from './config';

async function main(): Promise<void> {
  const config = syncIngestConfig();
  const app = await createSyncIngestApp(config);
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
