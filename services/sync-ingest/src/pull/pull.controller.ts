import { Controller, Get, Headers, Query, UseGuards } from '@nestjs/common';
import { PullResponse } from '@clinisync/contracts';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { PullQuery, PullService } from './pull.service';

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
  ): Promise<PullResponse> {
    return this.pulls.pull({ principal, token, correlationId }, query);
  }
}
