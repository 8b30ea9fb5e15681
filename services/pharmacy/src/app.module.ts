import { DynamicModule, Module } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { ModuleHostModule } from '@clinisync/module-runtime';
import { PharmacyConfig } from './config';
import { DispensingRules } from './dispensing/dispensing.rules';
import { DrugCatalogueRepository } from './dispensing/drug-catalogue.repository';

/**
 * Drug catalogue, prescriptions, prescription items and dispensing records. Beyond the registry:
 * a dispensing subject carries the drug's `controlled` flag, and a controlled dispensing is audited.
 */
@Module({})
export class PharmacyAppModule {
  static forRoot(config: PharmacyConfig, instance?: string): DynamicModule {
    return {
      module: PharmacyAppModule,
      imports: [
        ModuleHostModule.forRoot({
          module: 'pharmacy',
          config,
          instance,
          rules: () => new DispensingRules(new DrugCatalogueRepository(), { newEventId: () => uuidv7() }),
        }),
      ],
    };
  }
}
