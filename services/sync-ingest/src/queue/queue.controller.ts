import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, UseGuards, UsePipes } from '@nestjs/common';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { QueueService } from './queue.service';
import { ApiEnqueue, ApiPending, ApiProcess, ApiQueueResolve, ApiRetry, ApiStats, SyncIngestApi } from '../http/openapi';
import { SingleValuedQuery } from '../http/query-params.pipe';

/** The single-operation queue API (PROTOCOL.md); every call goes through the push pipeline. */
@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
@UsePipes(SingleValuedQuery)
@SyncIngestApi('queue')
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  @Post('queue')
  @HttpCode(202)
  @ApiEnqueue()
  enqueue(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Headers('x-device-id') deviceId: string | undefined,
    @Body() body: unknown,
  ) {
    return this.queue.enqueue({ principal, token, correlationId, deviceIdHeader: deviceId }, body);
  }

  @Get('pending')
  @ApiPending()
  pending(@CurrentPrincipal() principal: Principal, @Query('deviceId') deviceId: string | undefined) {
    return this.queue.pending(principal, deviceId);
  }

  @Post('process/:id')
  @HttpCode(200)
  @ApiProcess()
  process(@CurrentPrincipal() principal: Principal, @BearerToken() token: string, @Headers(CORRELATION_HEADER) correlationId: string, @Param('id') id: string) {
    return this.queue.process({ principal, token, correlationId }, id);
  }

  @Patch('resolve/:id')
  @ApiQueueResolve()
  resolve(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Param('id') id: string,
    @Query('resolution') resolution: string | undefined,
  ) {
    return this.queue.resolve({ principal, token, correlationId }, id, resolution);
  }

  @Post('retry')
  @HttpCode(200)
  @ApiRetry()
  retry(@CurrentPrincipal() principal: Principal, @BearerToken() token: string, @Headers(CORRELATION_HEADER) correlationId: string, @Query('deviceId') deviceId: string | undefined) {
    return this.queue.retry({ principal, token, correlationId }, deviceId);
  }

  @Get('stats')
  @ApiStats()
  stats(@CurrentPrincipal() principal: Principal) {
    return this.queue.stats(principal);
  }
}
