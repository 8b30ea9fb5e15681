import 'reflect-metadata';
import { createAuditApp } from './bootstrap';
import { auditConfig } from './config';

async function main(): Promise<void> {
  const config = auditConfig();
  const app = await createAuditApp(config);
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
