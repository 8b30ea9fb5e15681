import { Controller, Get, Headers, Param, Query, UseGuards } from '@nestjs/common';
import { SyncRecord } from '@clinisync/contracts';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { RecordsService } from './records.service';

@Controller('api/v1/records')
@UseGuards(JwtAuthGuard)
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get(':entity')
  list(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Param('entity') entity: string,
    @Query() query: { patientId?: string; facilityId?: string; updatedSince?: string; cursor?: string; limit?: string },
  ): Promise<{ items: SyncRecord[]; cursor: string | null }> {
    return this.records.list({ principal, token, correlationId }, entity, query);
  }

  @Get(':entity/:id')
  get(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Param('entity') entity: string,
    @Param('id') id: string,
  ): Promise<SyncRecord> {
    return this.records.get({ principal, token, correlationId }, entity, id);
  }
}
