import 'reflect-metadata';
import { startModuleService } from '@clinisync/module-runtime';
import { PatientsAppModule } from './app.module';
import { patientsConfig } from './config';

async function main(): Promise<void> {
  const config = patientsConfig();
  await startModuleService('patients', PatientsAppModule.forRoot(config), config);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
