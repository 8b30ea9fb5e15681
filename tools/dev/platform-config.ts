import { IsOptional, IsString } from 'class-validator';
import { CommonConfig, loadConfig } from '@clinisync/observability';

/**
 * What `npm start` validates before it migrates or starts anything: the common settings plus the
 * secrets and switches of the services it starts, so that with NODE_ENV=production one error
 * names every dev default or missing value at once (each service checks its own again).
 */
export class PlatformStartConfig extends CommonConfig {
  /** sync-ingest's cursor secret: passed through; only checked here. */
  @IsOptional()
  @IsString()
  CURSOR_SECRET?: string = undefined;

  /** Module services' test failpoint: refused in production. */
  @IsOptional()
  @IsString()
  CLINISYNC_FAILPOINT?: string = undefined;
}

export function platformStartConfig(env: Record<string, string | undefined> = process.env): PlatformStartConfig {
  return loadConfig(PlatformStartConfig, env);
}
