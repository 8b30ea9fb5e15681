import { Body, Controller, DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, Post, UseFilters, HttpCode, StreamableFile } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  ApplyBatchCommand,
  ApplyBatchReply,
  FEED_REPLY_CONTENT_TYPE,
  FeedRequest,
  ModuleName,
  ReadReply,
  ReadRequest,
  applyBatchPattern,
  encodeFeedReply,
  feedPattern,
  readPattern,
} from '@clinisync/contracts';
import { JwtVerifier, jwtVerifierFromEnv } from '@clinisync/auth';
import { LedgerRelaySource, MutationLedgerRepository, OutboxRepository, TenantTransactions, connectAs } from '@clinisync/persistence';
import { ModuleRelays } from './module-relays';
import { NatsLink, OutboxRelay, auditStream, clinicalStream, ensureStream, natsSecurityOptions, parseServers } from '@clinisync/messaging';
import {
  HealthController,
  METRICS_REGISTRY,
  MetricsController,
  OutboxMetrics,
  READINESS_PROBES,
  ReadinessIndicators,
  ReadinessProbe,
  createMetricsRegistry,
  loggerParams,
} from '@clinisync/observability';
import { Registry } from 'prom-client';
import { BatchApplier, ModuleRules } from './batch-applier';
import { ModuleServiceConfig } from './module-config';
import { ModuleCommandsService } from './module-commands.service';
import { ModuleHttpErrorFilter, ModuleRpcErrorFilter } from './module-commands.filters';
import { RecordRepository } from './record.repository';
import { FeedService } from './feed.service';
import { ApiApplyBatch, ApiFeed, ApiRead } from './openapi';

export const MODULE_CONFIG = Symbol('MODULE_CONFIG');
export const APP_DATA_SOURCE = Symbol('APP_DATA_SOURCE');
export const RELAY_DATA_SOURCE = Symbol('RELAY_DATA_SOURCE');
export const MODULE_RULES = Symbol('MODULE_RULES');

export interface ModuleHostOptions {
  module: ModuleName;
  config: ModuleServiceConfig;
  /** Module-specific rules, built from the module's own repositories. */
  rules?: (deps: { transactions: TenantTransactions }) => ModuleRules;
  /** NATS connection name suffix (tests run several instances in one process). */
  instance?: string;
}

function commandsController(module: ModuleName) {
  @Controller()
  class ModuleCommandsController {
    constructor(
      private readonly service: ModuleCommandsService,
      private readonly feeds: FeedService,
    ) {}

    @MessagePattern(applyBatchPattern(module))
    @UseFilters(ModuleRpcErrorFilter)
    applyBatch(@Payload() command: ApplyBatchCommand): Promise<ApplyBatchReply> {
      return this.service.applyBatch(command);
    }

    /** Same use case over HTTP: sync-ingest's fallback while NATS is unreachable. Not routed by Kong. */
    @Post('internal/v1/apply-batch')
    @HttpCode(200)
    @ApiApplyBatch()
    @UseFilters(ModuleHttpErrorFilter)
    applyBatchHttp(@Body() command: ApplyBatchCommand): Promise<ApplyBatchReply> {
      return this.service.applyBatch(command);
    }

    @MessagePattern(feedPattern(module))
    @UseFilters(ModuleRpcErrorFilter)
    feed(@Payload() request: FeedRequest): Promise<Uint8Array> {
      return this.feeds.feed(request).then(encodeFeedReply);
    }

    /** Feed over HTTP: the pull fallback while NATS is unreachable. Not routed by Kong. */
    @Post('internal/v1/feed')
    @HttpCode(200)
    @ApiFeed()
    @UseFilters(ModuleHttpErrorFilter)
    feedHttp(@Body() request: FeedRequest): Promise<StreamableFile> {
      return this.feeds.feed(request).then((reply) => new StreamableFile(encodeFeedReply(reply), { type: FEED_REPLY_CONTENT_TYPE }));
    }

    @MessagePattern(readPattern(module))
    @UseFilters(ModuleRpcErrorFilter)
    read(@Payload() request: ReadRequest): Promise<ReadReply> {
      return this.feeds.read(request);
    }

    /** Online-mode reads over HTTP while NATS is unreachable. Not routed by Kong. */
    @Post('internal/v1/read')
    @HttpCode(200)
    @ApiRead()
    @UseFilters(ModuleHttpErrorFilter)
    readHttp(@Body() request: ReadRequest): Promise<ReadReply> {
      return this.feeds.read(request);
    }
  }
  return ModuleCommandsController;
}

@Injectable()
class RelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly relay: ModuleRelays,
    private readonly nats: NatsLink,
    @Inject(APP_DATA_SOURCE) private readonly app: DataSource,
    @Inject(RELAY_DATA_SOURCE) private readonly relayDb: DataSource,
    @Inject(MODULE_CONFIG) private readonly config: ModuleServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Streams are provisioned on start if missing; the relay waits for NATS if it is down.
    const replicas = this.config.NATS_STREAM_REPLICAS;
    await Promise.all([ensureStream(this.nats.nc, clinicalStream(replicas)), ensureStream(this.nats.nc, auditStream(replicas))]).catch(() => undefined);
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.nats.close();
    await Promise.all([this.app.destroy(), this.relayDb.destroy()]);
  }
}

/** Everything a module service needs to apply pushed batches and publish their events. */
@Module({})
export class ModuleHostModule {
  static forRoot(options: ModuleHostOptions): DynamicModule {
    const { module, config } = options;
    const schema = module;
    return {
      module: ModuleHostModule,
      imports: [TerminusModule, LoggerModule.forRoot(loggerParams(module, config.LOG_LEVEL))],
      controllers: [commandsController(module), HealthController, MetricsController],
      providers: [
        { provide: MODULE_CONFIG, useValue: config },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(module) },
        { provide: OutboxMetrics, useFactory: (r: Registry) => new OutboxMetrics(r), inject: [METRICS_REGISTRY] },
        {
          provide: APP_DATA_SOURCE,
          useFactory: () =>
            connectAs(config, 'app', module, config.DB_POOL_SIZE),
        },
        {
          provide: RELAY_DATA_SOURCE,
          useFactory: () =>
            connectAs(config, 'relay', `${module}-relay`, 3),
        },
        {
          provide: NatsLink,
          useFactory: () =>
            NatsLink.connect({ servers: parseServers(config.NATS_URL), name: `${module}${options.instance ?? ''}-${randomUUID().slice(0, 8)}` }, natsSecurityOptions(config)),
        },
        {
          provide: JwtVerifier,
          useFactory: () =>
            jwtVerifierFromEnv(config),
        },
        { provide: TenantTransactions, useFactory: (ds: DataSource) => new TenantTransactions(ds), inject: [APP_DATA_SOURCE] },
        {
          provide: MODULE_RULES,
          useFactory: (transactions: TenantTransactions) => options.rules?.({ transactions }) ?? {},
          inject: [TenantTransactions],
        },
        {
          provide: BatchApplier,
          useFactory: (transactions: TenantTransactions, rules: ModuleRules) =>
            new BatchApplier(
              module,
              transactions,
              new RecordRepository(),
              new MutationLedgerRepository(),
              new OutboxRepository(schema),
              { now: () => new Date().toISOString(), newEventId: () => uuidv7() },
              rules,
            ),
          inject: [TenantTransactions, MODULE_RULES],
        },
        {
          provide: ModuleRelays,
          useFactory: (relayDb: DataSource, nats: NatsLink, metrics: OutboxMetrics) => {
            const options = { batchSize: 500, pollIntervalMs: config.OUTBOX_POLL_MS, publishTimeoutMs: 5_000 };
            const transactions = new TenantTransactions(relayDb);
            return new ModuleRelays(
              new OutboxRelay(transactions, new LedgerRelaySource(module), nats, metrics.observer('ledger'), options),
              new OutboxRelay(transactions, new OutboxRepository(schema), nats, metrics.observer('outbox'), options),
            );
          },
          inject: [RELAY_DATA_SOURCE, NatsLink, OutboxMetrics],
        },
        {
          provide: ModuleCommandsService,
          useFactory: (v: JwtVerifier, a: BatchApplier, r: ModuleRelays, m: OutboxMetrics) => new ModuleCommandsService(v, a, r, m, config.CLINISYNC_FAILPOINT, config.APPLY_CONCURRENCY),
          inject: [JwtVerifier, BatchApplier, ModuleRelays, OutboxMetrics],
        },
        {
          provide: FeedService,
          useFactory: (v: JwtVerifier, t: TenantTransactions) => new FeedService(module, v, t, new RecordRepository()),
          inject: [JwtVerifier, TenantTransactions],
        },
        {
          provide: READINESS_PROBES,
          useFactory: (ds: DataSource, nats: NatsLink): ReadinessProbe[] => [
            { name: 'database', check: async () => (await ds.query('SELECT 1')).length === 1 },
            { name: 'nats', check: async () => nats.isConnected },
          ],
          inject: [APP_DATA_SOURCE, NatsLink],
        },
        ReadinessIndicators,
        RelayLifecycle,
      ],
      exports: [TenantTransactions, NatsLink, JwtVerifier, MODULE_CONFIG, METRICS_REGISTRY, APP_DATA_SOURCE],
    };
  }
}
