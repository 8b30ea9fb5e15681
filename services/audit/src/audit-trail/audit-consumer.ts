import { Logger } from '@nestjs/common';
import { AUDIT_STREAM, AUDIT_SUBJECTS, CloudEvent } from '@clinisync/contracts';
import { DurableConsumer, NatsLink, StreamSpec, ensureStream } from '@clinisync/messaging';
import { readAuditCloudEvent } from './audit-intake';
import { AuditMetrics } from './audit-metrics';
import { AppendResult, AuditTrailService } from './audit-trail.service';

export const AUDIT_DURABLE = 'audit-store';

export type AuditHandling = AppendResult | { stored: false; dropped: string };

/**
 * Feeds the AUDIT stream into the tenant chains: a durable, explicitly acknowledged JetStream
 * consumer (`audit-store`, filter `audit.>`). A message is acked once its event is committed
 * (or found already stored: redeliveries are stored once); a failure leaves it unacked, so
 * JetStream redelivers it. A malformed message can never be stored: it is acked and counted,
 * and stays in the stream for investigation.
 */
export class AuditConsumer {
  private readonly logger = new Logger('AuditConsumer');
  private consumer: DurableConsumer | undefined;
  private stopped = false;
  private started: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly nats: NatsLink,
    private readonly audit: AuditTrailService,
    private readonly metrics: AuditMetrics,
    private readonly stream: StreamSpec,
  ) {}

  /** Handles one delivered event; throws (so the message is redelivered) only when storing failed. */
  async handle(event: CloudEvent, subject: string): Promise<AuditHandling> {
    const intake = readAuditCloudEvent(event, subject);
    if (!intake.ok) {
      this.metrics.dropped.inc();
      this.logger.error(
        `dropped audit message ${String((event as Partial<CloudEvent>)?.id)} on ${subject}: ${intake.reason}`,
      );
      return { stored: false, dropped: intake.reason };
    }
    return this.audit.append(intake.event);
  }

  /**
   * Provisions the AUDIT stream and the durable consumer, then consumes. Retries in the
   * background until it succeeds or `stop` is called; resolves once consuming.
   */
  start(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  private async run(): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      try {
        await ensureStream(this.nats.nc, this.stream);
        const consumer = new DurableConsumer(
          this.nats,
          { stream: AUDIT_STREAM, durable: AUDIT_DURABLE, filterSubject: AUDIT_SUBJECTS },
          (e) => {
            this.metrics.consumerFailures.inc();
            this.logger.error(
              `audit message not handled (redelivered unless unreadable): ${e instanceof Error ? e.message : String(e)}`,
            );
          },
        );
        await consumer.start(async (event, msg) => {
          await this.handle(event, msg.subject);
        });
        this.consumer = consumer;
        if (this.stopped) await consumer.stop();
        return;
      } catch (e) {
        this.logger.warn(
          `cannot consume ${AUDIT_STREAM} yet (${e instanceof Error ? e.message : String(e)}); retrying in ${delay} ms`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  get consuming(): boolean {
    return this.consumer !== undefined && !this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.started?.catch(() => undefined);
    await this.consumer?.stop();
  }
}
