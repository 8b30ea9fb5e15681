import { AckPolicy, ConsumerMessages, DeliverPolicy, JsMsg, nanos } from 'nats';
import { CloudEvent } from '@clinisync/contracts';
import { NatsLink } from './nats-connection';

export interface DurableConsumerOptions {
  stream: string;
  durable: string;
  /** One subject filter (nats-server 2.9 has no multi-filter consumers). */
  filterSubject: string;
  ackWaitMs?: number;
  /** Redelivery delay after a failed handler. */
  retryDelayMs?: number;
}

export type EventHandler = (event: CloudEvent, msg: { subject: string; redelivered: boolean; deliveryCount: number }) => Promise<void>;

/**
 * A durable, explicitly acknowledged JetStream consumer: a message is acked only after its
 * handler committed, and redelivered otherwise. Handlers must be idempotent on the event id
 * (JetStream delivers at least once).
 */
export class DurableConsumer {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly nats: NatsLink,
    private readonly options: DurableConsumerOptions,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Creates the durable consumer if missing (idempotent). */
  async ensure(): Promise<void> {
    const jsm = await this.nats.nc.jetstreamManager();
    const config = {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.options.filterSubject,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(this.options.stream, this.options.durable);
    } catch {
      await jsm.consumers.add(this.options.stream, config);
    }
  }

  async start(handler: EventHandler): Promise<void> {
    await this.ensure();
    const consumer = await this.nats.nc.jetstream().consumers.get(this.options.stream, this.options.durable);
    this.messages = await consumer.consume({ max_messages: 100 });
    this.loop = this.run(this.messages, handler);
  }

  private async run(messages: ConsumerMessages, handler: EventHandler): Promise<void> {
    for await (const m of messages) {
      if (this.stopped) break;
      await this.handle(m, handler);
    }
  }

  private async handle(m: JsMsg, handler: EventHandler): Promise<void> {
    let event: CloudEvent;
    try {
      event = m.json<CloudEvent>();
    } catch (e) {
      // A message that is not an event can never succeed: terminate it rather than loop.
      this.onError(e);
      m.term();
      return;
    }
    try {
      await handler(event, { subject: m.subject, redelivered: m.redelivered, deliveryCount: m.info.redeliveryCount });
      m.ack();
    } catch (e) {
      this.onError(e);
      m.nak(this.options.retryDelayMs ?? 1_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.loop?.catch(() => undefined);
  }
}
