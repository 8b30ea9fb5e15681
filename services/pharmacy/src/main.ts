import 'reflect-metadata';
import { startModuleService } from '@clinisync/module-runtime';
import { PharmacyAppModule } from './app.module';
import { pharmacyConfig } from './config';

async function main(): Promise<void> {
  const config = pharmacyConfig();
  await startModuleService('pharmacy', PharmacyAppModule.forRoot(config), config);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
