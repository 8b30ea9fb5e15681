import 'reflect-metadata';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength, NotContains } from 'class-validator';
import { AUDIT_KINDS, AuditKind } from '@clinisync/contracts';

/** Postgres text cannot hold a NUL: a filter carrying one is bad input (400), not a failed query (500). */
const NoNul = () => NotContains('\u0000', { message: '$property must not contain NUL' });

export const AUDIT_OUTCOMES = ['0', '4', '8', '12'] as const;
export const EXPORT_FORMATS = ['ndjson', 'fhir'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Query values are strings; a repeated parameter arrives as an array and is refused. */
export class TenantScopedQueryDto {
  /** Accepted only when it is the token's tenant (checked before validation). */
  @IsOptional()
  @IsString()
  tenantId?: string;
}

class TimeRangeDto extends TenantScopedQueryDto {
  /** Inclusive lower bound on `recorded` (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Exclusive upper bound on `recorded` (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

class AuditFilterDto extends TimeRangeDto {
  /** The event kind (`subtype` code), e.g. `write-denied`. */
  @IsOptional()
  @IsIn(AUDIT_KINDS)
  type?: AuditKind;

  /** Entity type of the audited record, e.g. `patients`. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @NoNul()
  entity?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @NoNul()
  recordId?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @NoNul()
  patientId?: string;

  /** The requesting user's id (token `sub`). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @NoNul()
  actor?: string;

  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: (typeof AUDIT_OUTCOMES)[number];
}

export class AuditEventsQueryDto extends AuditFilterDto {
  @IsOptional()
  @IsString()
  cursor?: string;

  /** 1 or more; default 100; values above 1000 are served as 1000. */
  @IsOptional()
  @Matches(/^[1-9]\d{0,8}$/, { message: 'limit must be a positive integer' })
  limit?: string;
}

export class AuditVerifyQueryDto extends TimeRangeDto {}

export class AuditExportQueryDto extends AuditFilterDto {
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}
