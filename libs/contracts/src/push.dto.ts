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
} from 'class-validator';
import { ApiErrorDetail } from './errors';
import { MAX_MUTATIONS_PER_PUSH, MUTATION_OPS, MutationOp } from './push';

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

/**
 * Builds the DTO graph for class-validator without class-transformer's generic (and, for 500
 * nested mutations, costly) transform: the wire shape is already plain JSON.
 */
export function toPushRequestDto(raw: Record<string, unknown>): PushRequestDto {
  const dto = Object.assign(new PushRequestDto(), raw);
  if (Array.isArray(raw.mutations)) {
    dto.mutations = raw.mutations.map((m: unknown) =>
      typeof m === 'object' && m !== null && !Array.isArray(m) ? Object.assign(new MutationDto(), m) : (m as MutationDto),
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
