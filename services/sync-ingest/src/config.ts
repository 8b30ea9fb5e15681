import { Transform } from 'class-transformer';
import { IsInt, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';
import { CommonConfig, loadConfig } from '@clinisync/observability';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

export class SyncIngestConfig extends CommonConfig {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3100;

  /** Largest accepted request body; larger ones get 413 PAYLOAD_TOO_LARGE. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 2 * 1024 * 1024;

  /** How long a module may take to answer a batch over NATS before the HTTP fallback is tried. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  MODULE_RPC_TIMEOUT_MS = 15_000;

  /** Module HTTP endpoints used while NATS is unreachable. */
  @IsUrl({ require_tld: false })
  MODULE_PATIENTS_URL = 'http://127.0.0.1:3101';

  @IsUrl({ require_tld: false })
  MODULE_PHARMACY_URL = 'http://127.0.0.1:3102';

  @IsUrl({ require_tld: false })
  MODULE_INVENTORY_URL = 'http://127.0.0.1:3103';

  /**
   * How long a pull page fetched ahead (the next page of a pull that said hasMore) waits for
   * the request that asks for it; 0 turns read-ahead off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  PULL_READ_AHEAD_TTL_MS = 10_000;

  /** Most bytes of record JSON held in pages fetched ahead, over all callers. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  PULL_READ_AHEAD_MAX_BYTES = 64 * 1024 * 1024;

  /** Secret for pull cursor integrity (HMAC). */
  @IsString()
  @MinLength(16)
  CURSOR_SECRET = 'clinisync-dev-cursor-secret-change-me';
}

export function syncIngestConfig(env: Record<string, string | undefined> = process.env): SyncIngestConfig {
  return loadConfig(SyncIngestConfig, env);
}
