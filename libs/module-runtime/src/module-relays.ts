import { OutboxRelay } from '@clinisync/messaging';

/**
 * A module's two relays: change events from the mutation ledger (tailed by snapshot) and
 * audit and derived events from its outbox. They start, stop and wake together.
 */
export class ModuleRelays {
  constructor(
    readonly ledger: OutboxRelay,
    readonly outbox: OutboxRelay,
  ) {}

  start(): void {
    this.ledger.start();
    this.outbox.start();
  }

  /** Called after a local commit wrote events. */
  notify(): void {
    this.ledger.notify();
    this.outbox.notify();
  }

  async stop(): Promise<void> {
    await Promise.all([this.ledger.stop(), this.outbox.stop()]);
  }
}
