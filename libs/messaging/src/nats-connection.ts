import { connect, ConnectionOptions, Events, NatsConnection } from 'nats';

export interface NatsSettings {
  servers: string[];
  name: string;
}

/**
 * A NATS connection that never gives up reconnecting: a clinic sync platform must ride out
 * broker restarts (events wait in the outbox meanwhile).
 */
export class NatsLink {
  private connected = false;

  private constructor(readonly nc: NatsConnection) {
    this.connected = true;
    void this.watch();
  }

  static async connect(settings: NatsSettings, extra: Partial<ConnectionOptions> = {}): Promise<NatsLink> {
    const nc = await connect({
      servers: settings.servers,
      name: settings.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      pingInterval: 5_000,
      // An Error (for its stack) per request is most of the cost of a JetStream publish; our
      // errors carry the subject and code, which is what we log.
      noAsyncTraces: true,
      ...extra,
    });
    return new NatsLink(nc);
  }

  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === Events.Disconnect || s.type === Events.Error) this.connected = false;
      if (s.type === Events.Reconnect) this.connected = true;
    }
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

export function parseServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
