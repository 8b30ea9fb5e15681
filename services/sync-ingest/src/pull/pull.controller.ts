import { Controller, Get, Headers, Query, StreamableFile, UseGuards } from '@nestjs/common';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { PullQuery, PullService } from './pull.service';
import { encodePullResponse } from './pull-response';

@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
export class PullController {
  constructor(private readonly pulls: PullService) {}

  @Get('pull')
  pull(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Query() query: PullQuery,
  ): Promise<StreamableFile> {
    return this.pulls.pull({ principal, token, correlationId }, query).then((page) => new StreamableFile(encodePullResponse(page), { type: 'application/json; charset=utf-8' }));
  }
}
