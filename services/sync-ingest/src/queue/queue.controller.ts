import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { QueueService } from './queue.service';

/** The single-operation queue API (PROTOCOL.md); every call goes through the push pipeline. */
@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  @Post('queue')
  @HttpCode(202)
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
  pending(@CurrentPrincipal() principal: Principal, @Query('deviceId') deviceId: string | undefined) {
    return this.queue.pending(principal, deviceId);
  }

  @Post('process/:id')
  @HttpCode(200)
  process(@CurrentPrincipal() principal: Principal, @BearerToken() token: string, @Headers(CORRELATION_HEADER) correlationId: string, @Param('id') id: string) {
    return this.queue.process({ principal, token, correlationId }, id);
  }

  @Patch('resolve/:id')
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
  retry(@CurrentPrincipal() principal: Principal, @BearerToken() token: string, @Headers(CORRELATION_HEADER) correlationId: string, @Query('deviceId') deviceId: string | undefined) {
    return this.queue.retry({ principal, token, correlationId }, deviceId);
  }

  @Get('stats')
  stats(@CurrentPrincipal() principal: Principal) {
    return this.queue.stats(principal);
  }
}
