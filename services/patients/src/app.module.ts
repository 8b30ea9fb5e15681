import { DynamicModule, Module } from '@nestjs/common';
import { ModuleHostModule } from '@clinisync/module-runtime';
import { PatientsConfig } from './config';

/** Patients, visits, vitals, problems, clinical notes and appointments: no rules beyond the registry. */
@Module({})
export class PatientsAppModule {
  static forRoot(config: PatientsConfig, instance?: string): DynamicModule {
    return { module: PatientsAppModule, imports: [ModuleHostModule.forRoot({ module: 'patients', config, instance })] };
  }
}
