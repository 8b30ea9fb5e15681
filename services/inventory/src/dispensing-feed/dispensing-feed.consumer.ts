import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CLINICAL_STREAM } from '@clinisync/contracts';
import { DurableConsumer, NatsLink, clinicalStream, ensureStream } from '@clinisync/messaging';
import { DISPENSING_CREATED_FILTER } from './dispensing-event';
import { DispensingFeedService } from './dispensing-feed.service';

/** Durable consumer name: shared by every inventory instance, so each event goes to one of them. */
export const DISPENSING_CONSUMER = 'inventory-dispensing';
const RETRY_MS = 1_000;

/**
 * Runs the durable, explicitly acknowledged JetStream consumer of pharmacy's dispensing events
 * (stream CLINICAL). An event is acked only after its transaction committed; a failure is
 * redelivered after 1 s. Started in the background, so the service comes up while NATS is down
 * and the consumer attaches when it returns.
 */
@Injectable()
export class DispensingFeedConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DispensingFeedConsumer');
  private consumer: DurableConsumer | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    @Inject(NatsLink) private readonly nats: NatsLink,
    @Inject(DispensingFeedService) private readonly feed: DispensingFeedService,
    /** Replicas of CLINICAL if this consumer creates it (NATS_STREAM_REPLICAS). */
    private readonly streamReplicas = 1,
  ) {}

  onApplicationBootstrap(): void {
    this.starting = this.startWhenReachable();
  }

  private async startWhenReachable(): Promise<void> {
    while (!this.stopped) {
      const consumer = new DurableConsumer(
        this.nats,
        {
          stream: CLINICAL_STREAM,
          durable: DISPENSING_CONSUMER,
          filterSubject: DISPENSING_CREATED_FILTER,
          retryDelayMs: RETRY_MS,
        },
        (e) =>
          this.logger.warn(
            `dispensing event not processed, will be redelivered: ${(e as Error)?.message ?? String(e)}`,
          ),
      );
      try {
        await ensureStream(this.nats.nc, clinicalStream(this.streamReplicas));
        await consumer.start(async (event, msg) => {
          const outcome = await this.feed.handle(event, msg.subject);
          if (outcome.kind === 'invalid')
            this.logger.error(`dropped event ${String(event?.id)} on ${msg.subject}: ${outcome.reason}`);
        });
        this.consumer = consumer;
        return;
      } catch (e) {
        this.logger.warn(`dispensing consumer not started (${(e as Error)?.message ?? String(e)}); retrying`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.starting;
    await this.consumer?.stop();
  }
}
