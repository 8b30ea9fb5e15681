import { loadConfig } from '@clinisync/observability';
import { ModuleServiceConfig } from '@clinisync/module-runtime';

export class PatientsConfig extends ModuleServiceConfig {
  override PORT = 3101;
}

export function patientsConfig(env: Record<string, string | undefined> = process.env): PatientsConfig {
  return loadConfig(PatientsConfig, env);
}
