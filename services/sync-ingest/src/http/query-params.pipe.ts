import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** No query parameter of PROTOCOL.md carries a NUL (Postgres text cannot hold one either). */
const NUL = '\u0000';

/**
 * Every query parameter of sync-ingest is one string: a repeated parameter (`limit=1&limit=2`)
 * arrives as an array, and a NUL cannot reach a database query. Both are refused as 400
 * `VALIDATION_FAILED` (a framework 4xx, mapped by `HttpErrorFilter`) before a service sees
 * them, instead of failing later as a 500 or a module's 503. Applies to `@Query()` arguments:
 * the whole query object or one named parameter.
 */
@Injectable()
export class SingleValuedQuery implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'query') return value;
    if (metadata.data) {
      check(metadata.data, value);
    } else if (typeof value === 'object' && value !== null) {
      for (const [name, v] of Object.entries(value)) check(name, v);
    }
    return value;
  }
}

function check(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string')
    throw new BadRequestException(`query parameter ${name} must be given once, as a plain value`);
  if (value.includes(NUL)) throw new BadRequestException(`query parameter ${name} must not contain NUL`);
}
