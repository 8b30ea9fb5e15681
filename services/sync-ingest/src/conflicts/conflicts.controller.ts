import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, UseGuards, UsePipes } from '@nestjs/common';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { ConflictView, ConflictsService, ResolveResponse } from './conflicts.service';
import { ApiListConflicts, ApiResolveConflict, SyncIngestApi } from '../http/openapi';
import { SingleValuedQuery } from '../http/query-params.pipe';

@Controller('api/v1/sync/conflicts')
@UseGuards(JwtAuthGuard)
@UsePipes(SingleValuedQuery)
@SyncIngestApi('conflicts')
export class ConflictsController {
  constructor(private readonly conflicts: ConflictsService) {}

  @Get()
  @ApiListConflicts()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: { status?: string; entity?: string; recordId?: string; cursor?: string; limit?: string },
  ): Promise<{ items: ConflictView[]; cursor: string | null }> {
    return this.conflicts.list(principal, query);
  }

  @Post(':conflictId/resolve')
  @HttpCode(200)
  @ApiResolveConflict()
  resolve(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Headers('x-device-id') deviceId: string | undefined,
    @Param('conflictId') conflictId: string,
    @Body() body: unknown,
  ): Promise<ResolveResponse> {
    return this.conflicts.resolve({ principal, token, correlationId, deviceId }, conflictId, body);
  }
}
