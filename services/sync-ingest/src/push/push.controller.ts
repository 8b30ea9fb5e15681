import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { PushResponse } from '@clinisync/contracts';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { PushService } from './push.service';
import { ApiPush, SyncIngestApi } from '../http/openapi';

@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
@SyncIngestApi('push')
export class PushController {
  constructor(private readonly push: PushService) {}

  @Post('push')
  @HttpCode(200)
  @ApiPush()
  pushMutations(
    @CurrentPrincipal() principal: Principal,
    @BearerToken() token: string,
    @Headers(CORRELATION_HEADER) correlationId: string,
    @Headers('x-device-id') deviceId: string | undefined,
    @Body() body: unknown,
  ): Promise<PushResponse> {
    return this.push.push({ principal, token, correlationId, deviceIdHeader: deviceId }, body);
  }
}
