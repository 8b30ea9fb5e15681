import { DynamicModule, Module } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { ModuleHostModule } from '@clinisync/module-runtime';
import { OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { NatsLink } from '@clinisync/messaging';
import { InventoryConfig } from './config';
import { StockLevelsRepository } from './stock/stock-levels.repository';
import { InventoryPorts, StockLevelsService } from './stock/stock-levels.service';
import { StockMovementRules } from './stock/stock-movement.rules';
import { StockMovementsRepository } from './stock/stock-movements.repository';
import { DispensingFeedService } from './dispensing-feed/dispensing-feed.service';
import { DispensingFeedConsumer } from './dispensing-feed/dispensing-feed.consumer';
import { ProcessedEventsRepository } from './dispensing-feed/processed-events.repository';

const ports: InventoryPorts = { now: () => new Date().toISOString(), newEventId: () => uuidv7() };

/**
 * Stock movements (pushed by clients, or written for pharmacy's dispensing events) and the
 * stock levels the server derives from them.
 */
@Module({})
export class InventoryAppModule {
  static forRoot(config: InventoryConfig, instance?: string): DynamicModule {
    return {
      module: InventoryAppModule,
      imports: [
        ModuleHostModule.forRoot({
          module: 'inventory',
          config,
          instance,
          rules: () => new StockMovementRules(new StockLevelsService(new StockLevelsRepository(), ports)),
        }),
      ],
      providers: [
        {
          provide: DispensingFeedService,
          useFactory: (transactions: TenantTransactions) =>
            new DispensingFeedService(
              transactions,
              new ProcessedEventsRepository(),
              new StockMovementsRepository(),
              new StockLevelsService(new StockLevelsRepository(), ports),
              new OutboxRepository('inventory'),
              ports,
            ),
          inject: [TenantTransactions],
        },
        {
          provide: DispensingFeedConsumer,
          useFactory: (nats: NatsLink, feed: DispensingFeedService) => new DispensingFeedConsumer(nats, feed, config.NATS_STREAM_REPLICAS),
          inject: [NatsLink, DispensingFeedService],
        },
      ],
    };
  }
}
