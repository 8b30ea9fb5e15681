import { Controller, Get, Headers, Query, StreamableFile, UseGuards, UsePipes } from '@nestjs/common';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { PullQuery, PullService } from './pull.service';
import { PullPage, encodePullResponse } from './pull-response';
import { ApiPull, SyncIngestApi } from '../http/openapi';
import { SingleValuedQuery } from '../http/query-params.pipe';

/** The response with its length, so it goes out in one write (a stream of unknown length ends with a chunk of its own). */
function pullResponseFile(page: PullPage): StreamableFile {
  const body = encodePullResponse(page);
  return new StreamableFile(body, { type: 'application/json; charset=utf-8', length: body.length });
}

@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
@UsePipes(SingleValuedQuery)
@SyncIngestApi('pull')
export class PullController {
  constructor(private readonly pulls: PullService) {}

  @Get('pull')
  @ApiPull()
  pull(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Query() query: PullQuery,
  ): Promise<StreamableFile> {
    return this.pulls.pull({ principal, token, correlationId }, query).then(pullResponseFile);
  }
}
