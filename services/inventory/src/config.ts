import { loadConfig } from '@clinisync/observability';
import { ModuleServiceConfig } from '@clinisync/module-runtime';

export class InventoryConfig extends ModuleServiceConfig {
  override PORT = 3103;
}

export function inventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  return loadConfig(InventoryConfig, env);
}
