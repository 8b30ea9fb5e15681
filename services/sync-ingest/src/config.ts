import { Transform } from 'class-transformer';
import { IsInt, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';
import { CommonConfig, DEV_CURSOR_SECRET, loadConfig } from '@clinisync/observability';
import { LEDGER_MIN_RETENTION_DAYS } from '@clinisync/persistence';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

export class SyncIngestConfig extends CommonConfig {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3100;

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

  /**
   * Days a decided mutation stays in the mutation ledger (its idempotency record: a retry within
   * it replays). Older rows whose event is out are deleted hourly. PROTOCOL: at least 30.
   */
  @Transform(toInt)
  @IsInt()
  @Min(LEDGER_MIN_RETENTION_DAYS)
  LEDGER_RETENTION_DAYS = 90;

  // Admission control of push and pull (src/admission). Every limit: 0 turns it off.

  /** Push and pull requests one device (`X-Device-Id` within the tenant) may have in flight; over it 429 RATE_LIMITED. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_DEVICE_MAX_IN_FLIGHT = 2;

  /** Sustained push and pull requests per second of one device (token bucket); over it 429 RATE_LIMITED. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_DEVICE_RATE_PER_SECOND = 20;

  /** Bucket size of the device rate: requests a device may send at once after a quiet spell. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ADMISSION_DEVICE_BURST = 60;

  /** Push and pull requests of one tenant in flight or waiting for a slot; over it 429 RATE_LIMITED. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_TENANT_MAX_IN_FLIGHT = 128;

  /** Sustained push and pull requests per second of one tenant (token bucket); over it 429 RATE_LIMITED. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_TENANT_RATE_PER_SECOND = 500;

  /** Bucket size of the tenant rate. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ADMISSION_TENANT_BURST = 1000;

  /** Push and pull requests processed at once over all tenants; more wait in a FIFO queue. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_MAX_IN_FLIGHT = 64;

  /** Requests that may wait for a slot; beyond it 503 UNAVAILABLE. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_MAX_QUEUED = 512;

  /** Longest wait for a slot before 503 UNAVAILABLE. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ADMISSION_QUEUE_TIMEOUT_MS = 5_000;

  /** Event-loop lag above which new requests get 503 UNAVAILABLE. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ADMISSION_MAX_EVENT_LOOP_LAG_MS = 1_000;

  /** V8 heap in use, as a percentage of the heap limit, above which new requests get 503 UNAVAILABLE. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  ADMISSION_MAX_HEAP_PERCENT = 90;

  /** Retry-After of a 429 for a device or tenant over its in-flight limit (rate refusals compute theirs). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ADMISSION_RETRY_AFTER_SECONDS = 1;

  /** Retry-After of a 503 for global overload. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ADMISSION_OVERLOAD_RETRY_AFTER_SECONDS = 2;

  /**
   * Secret for pull cursor integrity (HMAC). The dev default is refused with NODE_ENV=production
   * (BODY_LIMIT_BYTES, the 413 limit, is a common setting: libs/observability).
   */
  @IsString()
  @MinLength(16)
  CURSOR_SECRET = DEV_CURSOR_SECRET;
}

export function syncIngestConfig(env: Record<string, string | undefined> = process.env): SyncIngestConfig {
  return loadConfig(SyncIngestConfig, env);
}
