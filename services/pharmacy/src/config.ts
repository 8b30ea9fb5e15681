import { loadConfig } from '@clinisync/observability';
import { ModuleServiceConfig } from '@clinisync/module-runtime';

export class PharmacyConfig extends ModuleServiceConfig {
  override PORT = 3102;
}

export function pharmacyConfig(env: Record<string, string | undefined> = process.env): PharmacyConfig {
  return loadConfig(PharmacyConfig, env);
}
