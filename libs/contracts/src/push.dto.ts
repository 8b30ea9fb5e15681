import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  ValidationError,
  isArray,
  isIn,
  isInt,
  isISO8601,
  isNotEmpty,
  isObject,
  isString,
  isUUID,
  maxLength,
  min,
} from 'class-validator';
import { ApiErrorDetail } from './errors';
import { MAX_MUTATIONS_PER_PUSH, MUTATION_OPS, MutationOp, PushRequest } from './push';

/** Wire shape of one mutation; entity-specific `data` rules live in the entity registry. */
export class MutationDto {
  @IsUUID('all')
  clientMutationId!: string;

  @IsString()
  @IsNotEmpty()
  entity!: string;

  @IsIn(MUTATION_OPS)
  op!: MutationOp;

  @IsUUID('all')
  id!: string;

  @ValidateIf((m: MutationDto) => m.op === 'update' || m.op === 'delete' || m.baseVersion !== undefined)
  @IsInt({ message: 'baseVersion must be an integer (required for update and delete)' })
  @Min(1)
  baseVersion?: number;

  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  changedFields?: string[];

  @IsOptional()
  @IsISO8601({ strict: true })
  occurredAt?: string;
}

export class PushRequestDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  deviceId?: string;

  @IsOptional()
  @IsString()
  tenantId?: string;

  @IsArray()
  @ArrayMinSize(1, { message: 'mutations must contain at least 1 mutation' })
  @ArrayMaxSize(MAX_MUTATIONS_PER_PUSH, { message: `mutations must contain at most ${MAX_MUTATIONS_PER_PUSH} mutations` })
  @ValidateNested({ each: true })
  @Type(() => MutationDto)
  mutations!: MutationDto[];
}

const REQUEST_KEYS: ReadonlySet<string> = new Set(['deviceId', 'tenantId', 'mutations']);
const MUTATION_KEYS: ReadonlySet<string> = new Set(['clientMutationId', 'entity', 'op', 'id', 'baseVersion', 'data', 'changedFields', 'occurredAt']);
const absent = (v: unknown) => v === undefined || v === null;

function mutationPasses(m: unknown): boolean {
  if (!isObject(m)) return false;
  const r = m as Record<string, unknown>;
  for (const k in r) if (!MUTATION_KEYS.has(k)) return false;
  if (!isUUID(r.clientMutationId, 'all') || !isUUID(r.id, 'all')) return false;
  if (!isString(r.entity) || !isNotEmpty(r.entity) || !isIn(r.op, MUTATION_OPS as unknown as unknown[])) return false;
  if ((r.op === 'update' || r.op === 'delete' || r.baseVersion !== undefined) && !(isInt(r.baseVersion) && min(r.baseVersion, 1))) return false;
  if (!absent(r.data) && !isObject(r.data)) return false;
  if (!absent(r.changedFields) && !(isArray(r.changedFields) && (r.changedFields as unknown[]).every(isString))) return false;
  if (!absent(r.occurredAt) && !isISO8601(r.occurredAt, { strict: true })) return false;
  return true;
}

/**
 * The push request rules above, checked with class-validator's own predicates but without
 * building its error tree: a 500-mutation batch is most of sync-ingest's CPU otherwise. True
 * only when `validateSync` (whitelist, forbidNonWhitelisted) would find nothing; anything else
 * goes through `validateSync` for its error details. Property-tested against it.
 */
export function passesPushRequestRules(raw: Record<string, unknown>): raw is Record<string, unknown> & PushRequest {
  for (const k in raw) if (!REQUEST_KEYS.has(k)) return false;
  if (!absent(raw.deviceId) && !(isString(raw.deviceId) && maxLength(raw.deviceId, 200))) return false;
  if (!absent(raw.tenantId) && !isString(raw.tenantId)) return false;
  const ms = raw.mutations;
  if (!isArray(ms) || ms.length < 1 || ms.length > MAX_MUTATIONS_PER_PUSH) return false;
  return ms.every(mutationPasses);
}

/**
 * Builds the DTO graph for class-validator without class-transformer's generic (and, for 500
 * nested mutations, costly) transform: the wire shape is already plain JSON.
 */
export function toPushRequestDto(raw: Record<string, unknown>): PushRequestDto {
  const dto = Object.assign(new PushRequestDto(), raw);
  if (Array.isArray(raw.mutations)) {
    // A non-object goes in as null: ValidateNested would take an array for a nested value and
    // find nothing wrong in `[]`, so `mutations: [[]]` passed validation (and then crashed the push).
    dto.mutations = raw.mutations.map((m: unknown) =>
      typeof m === 'object' && m !== null && !Array.isArray(m) ? Object.assign(new MutationDto(), m) : ((m === undefined || Array.isArray(m) ? null : m) as MutationDto),
    );
  }
  return dto;
}

/** Flattens class-validator's error tree into `mutations[3].op`-style paths. */
export function toErrorDetails(errors: ValidationError[], parent = ''): ApiErrorDetail[] {
  const details: ApiErrorDetail[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      details.push({ path, message });
    }
    if (error.children?.length) details.push(...toErrorDetails(error.children, path));
  }
  return details;
}
