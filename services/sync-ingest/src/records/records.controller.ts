import { Controller, Get, Headers, Param, Query, UseGuards, UsePipes } from '@nestjs/common';
import { SyncRecord } from '@clinisync/contracts';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { RecordsService } from './records.service';
import { ApiGetRecord, ApiListRecords, SyncIngestApi } from '../http/openapi';
import { SingleValuedQuery } from '../http/query-params.pipe';

@Controller('api/v1/records')
@UseGuards(JwtAuthGuard)
@UsePipes(SingleValuedQuery)
@SyncIngestApi('records')
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get(':entity')
  @ApiListRecords()
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
  @ApiGetRecord()
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
