import { Controller, Get, Inject, Injectable } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ApiHealthOperation } from './openapi';

/** What readiness checks: each dependency answers whether it is usable now. */
export interface ReadinessProbe {
  name: string;
  check(): Promise<boolean>;
}

export const READINESS_PROBES = Symbol('READINESS_PROBES');

@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  checks(): (() => Promise<HealthIndicatorResult>)[] {
    return this.probes.map((p) => async () => {
      const indicator = this.indicators.check(p.name);
      let ok = false;
      try {
        ok = await p.check();
      } catch {
        ok = false;
      }
      return ok ? indicator.up() : indicator.down({ message: `${p.name} unavailable` });
    });
  }
}

/** `/health/live` (process up) and `/health/ready` (database and NATS), terminus format. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  @Get('live')
  @ApiHealthOperation('liveness: the process is up')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiHealthOperation('readiness: database and NATS')
  @HealthCheck()
  ready() {
    return this.health.check(this.readiness.checks());
  }
}
