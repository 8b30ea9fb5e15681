import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { JwtAuthGuard, JwtVerifier, jwtVerifierFromEnv } from '@clinisync/auth';
import { TenantTransactions, connectAs } from '@clinisync/persistence';
import { NatsLink, auditStream, natsSecurityOptions, parseServers } from '@clinisync/messaging';
import {
  HealthController,
  METRICS_REGISTRY,
  MetricsController,
  READINESS_PROBES,
  ReadinessIndicators,
  ReadinessProbe,
  createMetricsRegistry,
  loggerParams,
} from '@clinisync/observability';
import { AuditConfig } from './config';
import { HttpErrorFilter } from './http/http-error.filter';
import { AuditConsumer } from './audit-trail/audit-consumer';
import { AuditMetrics } from './audit-trail/audit-metrics';
import { AuditTrailController } from './audit-trail/audit-trail.controller';
import { AuditTrailRepository } from './audit-trail/audit-trail.repository';
import { AuditTrailService } from './audit-trail/audit-trail.service';

export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');
const DATA_SOURCE = Symbol('DATA_SOURCE');

@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly consumer: AuditConsumer,
    private readonly nats: NatsLink,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    // Queries are served at once; the consumer provisions AUDIT and starts as soon as NATS allows.
    void this.consumer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.nats.close();
    await this.ds.destroy();
  }
}

/** The audit service: the AUDIT stream consumer, the tenant hash chains and the auditors' HTTP API. */
@Module({})
export class AuditAppModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditAppModule,
      imports: [TerminusModule, LoggerModule.forRoot(loggerParams('audit', config.LOG_LEVEL))],
      controllers: [AuditTrailController, HealthController, MetricsController],
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry('audit') },
        {
          provide: AuditMetrics,
          useFactory: (r: Registry) => new AuditMetrics(r),
          inject: [METRICS_REGISTRY],
        },
        {
          provide: DATA_SOURCE,
          useFactory: () =>
            connectAs(config, 'app', 'audit', config.DB_POOL_SIZE),
        },
        {
          provide: TenantTransactions,
          useFactory: (ds: DataSource) => new TenantTransactions(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: JwtVerifier,
          useFactory: () =>
            jwtVerifierFromEnv(config),
        },
        JwtAuthGuard,
        {
          provide: NatsLink,
          useFactory: () =>
            NatsLink.connect(
              {
                servers: parseServers(config.NATS_URL),
                name: `audit-${randomUUID().slice(0, 8)}`,
              },
              // audit's NATS user may only consume its durable consumer (deploy/nats/auth.conf).
              natsSecurityOptions(config),
            ),
        },
        { provide: AuditTrailRepository, useFactory: () => new AuditTrailRepository() },
        {
          provide: AuditTrailService,
          useFactory: (t: TenantTransactions, r: AuditTrailRepository, m: AuditMetrics) =>
            new AuditTrailService(t, r, m, { now: () => new Date(), newEventId: () => uuidv7() }),
          inject: [TenantTransactions, AuditTrailRepository, AuditMetrics],
        },
        {
          provide: AuditConsumer,
          useFactory: (n: NatsLink, s: AuditTrailService, m: AuditMetrics) =>
            new AuditConsumer(n, s, m, auditStream(config.AUDIT_STREAM_REPLICAS ?? config.NATS_STREAM_REPLICAS)),
          inject: [NatsLink, AuditTrailService, AuditMetrics],
        },
        {
          provide: READINESS_PROBES,
          useFactory: (ds: DataSource, nats: NatsLink): ReadinessProbe[] => [
            { name: 'database', check: async () => (await ds.query('SELECT 1')).length === 1 },
            { name: 'nats', check: async () => nats.isConnected },
          ],
          inject: [DATA_SOURCE, NatsLink],
        },
        ReadinessIndicators,
        Lifecycle,
      ],
    };
  }
}
