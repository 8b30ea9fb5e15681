import 'reflect-metadata';
import { startModuleService } from '@clinisync/module-runtime';
import { InventoryAppModule } from './app.module';
import { inventoryConfig } from './config';

async function main(): Promise<void> {
  const config = inventoryConfig();
  await startModuleService('inventory', InventoryAppModule.forRoot(config), config);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
