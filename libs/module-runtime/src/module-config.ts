import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CommonConfig } from '@clinisync/observability';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** Environment of a module service (patients, pharmacy, inventory). */
export class ModuleServiceConfig extends CommonConfig {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 0;

  /**
   * Test-only failure injection: `after-commit-before-reply` makes the process exit right
   * after a batch commits and before it answers. Never set in production.
   */
  @IsOptional()
  @IsString()
  CLINISYNC_FAILPOINT?: string;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  OUTBOX_POLL_MS = 250;

  /** Batches applied at once (the rest wait in memory); about twice the cores Postgres has. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  APPLY_CONCURRENCY = 4;
}
