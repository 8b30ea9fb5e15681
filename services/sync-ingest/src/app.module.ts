import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Registry } from 'prom-client';
import { JwtAuthGuard, JwtVerifier, jwtVerifierFromEnv } from '@clinisync/auth';
import { LedgerRetention, MutationLedgerRepository, OutboxRepository, TenantTransactions, connectAs } from '@clinisync/persistence';
import { CheckpointCodec } from './pull/checkpoint';
import { PageCursorCodec } from './cursors/page-cursor.codec';
import { NatsLink, OutboxRelay, auditStream, clinicalStream, ensureStream, natsSecurityOptions, parseServers, BinaryReplyDeserializer } from '@clinisync/messaging';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  HealthController,
  METRICS_REGISTRY,
  MetricsController,
  OutboxMetrics,
  PullMetrics,
  PushMetrics,
  READINESS_PROBES,
  ReadinessIndicators,
  ReadinessProbe,
  createMetricsRegistry,
  loggerParams,
} from '@clinisync/observability';
import { SyncIngestConfig } from './config';
import { admissionProvider } from './admission/admission.provider';
import { HttpErrorFilter } from './http/http-error.filter';
import { ModuleGateway } from './modules-gateway/module-gateway';
import { PushController } from './push/push.controller';
import { PushService } from './push/push.service';
import { SyncMutationsRepository } from './push/sync-mutations.repository';
import { PullController } from './pull/pull.controller';
import { PullService } from './pull/pull.service';
import { PullReadAhead } from './pull/pull-read-ahead';
import { ConflictsController } from './conflicts/conflicts.controller';
import { ConflictsService } from './conflicts/conflicts.service';
import { ConflictsRepository } from './conflicts/conflicts.repository';
import { IngestAudit } from './audit/ingest-audit';
import { QueueController } from './queue/queue.controller';
import { QueueService } from './queue/queue.service';
import { RecordsController } from './records/records.controller';
import { RecordsService } from './records/records.service';

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
const DATA_SOURCE = Symbol('DATA_SOURCE');
const RELAY_DATA_SOURCE = Symbol('RELAY_DATA_SOURCE');
const INGEST_OUTBOX = Symbol('INGEST_OUTBOX');

@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly gateway: ModuleGateway,
    private readonly relay: OutboxRelay,
    private readonly retention: LedgerRetention,
    private readonly nats: NatsLink,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(RELAY_DATA_SOURCE) private readonly relayDs: DataSource,
    @Inject(INGEST_CONFIG) private readonly config: SyncIngestConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.gateway.connect();
    const replicas = this.config.NATS_STREAM_REPLICAS;
    await Promise.all([ensureStream(this.nats.nc, clinicalStream(replicas)), ensureStream(this.nats.nc, auditStream(replicas))]).catch(() => undefined);
    this.relay.start();
    this.retention.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.relay.stop(), this.retention.stop()]);
    await this.gateway.close();
    await this.nats.close();
    await Promise.all([this.ds.destroy(), this.relayDs.destroy()]);
  }
}

@Module({})
export class SyncIngestAppModule {
  static forRoot(config: SyncIngestConfig): DynamicModule {
    return {
      module: SyncIngestAppModule,
      imports: [TerminusModule, LoggerModule.forRoot(loggerParams('sync-ingest', config.LOG_LEVEL))],
      controllers: [PushController, PullController, ConflictsController, QueueController, RecordsController, HealthController, MetricsController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry('sync-ingest') },
        { provide: PushMetrics, useFactory: (r: Registry) => new PushMetrics(r), inject: [METRICS_REGISTRY] },
        {
          provide: DATA_SOURCE,
          useFactory: () =>
            connectAs(config, 'app', 'sync-ingest', config.DB_POOL_SIZE),
        },
        { provide: TenantTransactions, useFactory: (ds: DataSource) => new TenantTransactions(ds), inject: [DATA_SOURCE] },
        {
          provide: JwtVerifier,
          useFactory: () =>
            jwtVerifierFromEnv(config),
        },
        JwtAuthGuard,
        admissionProvider(config),
        {
          provide: ModuleGateway,
          useFactory: () =>
            new ModuleGateway(
              ClientProxyFactory.create({
                transport: Transport.NATS,
                options: {
                  servers: parseServers(config.NATS_URL),
                  // sync-ingest's NATS user may request the modules' command subjects (deploy/nats/auth.conf).
                  ...natsSecurityOptions(config),
                  maxReconnectAttempts: -1,
                  reconnectTimeWait: 250,
                  waitOnFirstConnect: true,
                  // Feed pages come back as bytes, spliced into pull responses unparsed.
                  deserializer: new BinaryReplyDeserializer(),
                },
              }),
              {
                timeoutMs: config.MODULE_RPC_TIMEOUT_MS,
                httpUrls: { patients: config.MODULE_PATIENTS_URL, pharmacy: config.MODULE_PHARMACY_URL, inventory: config.MODULE_INVENTORY_URL },
              },
            ),
        },
        SyncMutationsRepository,
        ConflictsRepository,
        { provide: INGEST_OUTBOX, useValue: new OutboxRepository('sync_ingest') },
        { provide: IngestAudit, useValue: new IngestAudit({ now: () => new Date().toISOString(), newId: () => uuidv7() }) },
        { provide: OutboxMetrics, useFactory: (r: Registry) => new OutboxMetrics(r), inject: [METRICS_REGISTRY] },
        {
          provide: RELAY_DATA_SOURCE,
          useFactory: () =>
            connectAs(config, 'relay', 'sync-ingest-relay', 2),
        },
        {
          provide: NatsLink,
          useFactory: () => NatsLink.connect({ servers: parseServers(config.NATS_URL), name: `sync-ingest-${randomUUID().slice(0, 8)}` }, natsSecurityOptions(config)),
        },
        {
          provide: LedgerRetention,
          useFactory: (relayDb: DataSource) => new LedgerRetention(new TenantTransactions(relayDb), { retentionDays: config.LEDGER_RETENTION_DAYS }),
          inject: [RELAY_DATA_SOURCE],
        },
        {
          provide: OutboxRelay,
          useFactory: (relayDb: DataSource, nats: NatsLink, outbox: OutboxRepository, metrics: OutboxMetrics) =>
            new OutboxRelay(new TenantTransactions(relayDb), outbox, nats, metrics.observer('outbox')),
          inject: [RELAY_DATA_SOURCE, NatsLink, INGEST_OUTBOX, OutboxMetrics],
        },
        MutationLedgerRepository,
        { provide: CheckpointCodec, useValue: new CheckpointCodec(config.CURSOR_SECRET) },
        { provide: PageCursorCodec, useValue: new PageCursorCodec(config.CURSOR_SECRET) },
        {
          provide: PushService,
          useFactory: (t: TenantTransactions, l: MutationLedgerRepository, k: CheckpointCodec, g: ModuleGateway, m: PushMetrics, c: ConflictsRepository, o: OutboxRepository, a: IngestAudit, r: OutboxRelay) =>
            new PushService(t, l, k, g, m, c, o, a, () => new Date(), () => r.notify()),
          inject: [TenantTransactions, MutationLedgerRepository, CheckpointCodec, ModuleGateway, PushMetrics, ConflictsRepository, INGEST_OUTBOX, IngestAudit, OutboxRelay],
        },
        {
          provide: ConflictsService,
          useFactory: (t: TenantTransactions, c: ConflictsRepository, g: ModuleGateway, o: OutboxRepository, a: IngestAudit, k: PageCursorCodec, r: OutboxRelay) =>
            new ConflictsService(t, c, g, o, a, k, () => r.notify()),
          inject: [TenantTransactions, ConflictsRepository, ModuleGateway, INGEST_OUTBOX, IngestAudit, PageCursorCodec, OutboxRelay],
        },
        { provide: RecordsService, useFactory: (g: ModuleGateway, k: PageCursorCodec) => new RecordsService(g, k), inject: [ModuleGateway, PageCursorCodec] },
        {
          provide: QueueService,
          useFactory: (t: TenantTransactions, q: SyncMutationsRepository, l: MutationLedgerRepository, p: PushService, cr: ConflictsRepository, cs: ConflictsService) => new QueueService(t, q, l, p, cr, cs),
          inject: [TenantTransactions, SyncMutationsRepository, MutationLedgerRepository, PushService, ConflictsRepository, ConflictsService],
        },
        {
          provide: PullService,
          useFactory: (g: ModuleGateway, r: Registry) => {
            const metrics = new PullMetrics(r);
            const readAhead = new PullReadAhead({ ttlMs: config.PULL_READ_AHEAD_TTL_MS, maxBytes: config.PULL_READ_AHEAD_MAX_BYTES }, (outcome) => metrics.readAhead.inc({ outcome }));
            return new PullService(g, config.CURSOR_SECRET, () => new Date(), readAhead);
          },
          inject: [ModuleGateway, METRICS_REGISTRY],
        },
        {
          provide: READINESS_PROBES,
          useFactory: (ds: DataSource, g: ModuleGateway): ReadinessProbe[] => [
            { name: 'database', check: async () => (await ds.query('SELECT 1')).length === 1 },
            { name: 'nats', check: async () => g.natsUp },
          ],
          inject: [DATA_SOURCE, ModuleGateway],
        },
        ReadinessIndicators,
        Lifecycle,
      ],
    };
  }
}
