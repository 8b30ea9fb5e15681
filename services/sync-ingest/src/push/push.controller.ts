import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { PushResponse } from '@clinisync/contracts';
import { BearerToken, CurrentPrincipal, JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER } from '@clinisync/observability';
import { PushService } from './push.service';

@Controller('api/v1/sync')
@UseGuards(JwtAuthGuard)
export class PushController {
  constructor(private readonly push: PushService) {}

  @Post('push')
  @HttpCode(200)
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
