import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CommonConfig, loadConfig } from '@clinisync/observability';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);

/** The audit service's environment, validated once at start (the common settings plus these). */
export class AuditConfig extends CommonConfig {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3200;

  /**
   * Replicas of the AUDIT stream when this service creates it (3 on a JetStream cluster); unset:
   * NATS_STREAM_REPLICAS, the setting of every service.
   */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  AUDIT_STREAM_REPLICAS?: number = undefined;
}

export function auditConfig(env: Record<string, string | undefined> = process.env): AuditConfig {
  return loadConfig(AuditConfig, env);
}
