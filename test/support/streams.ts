import { connect } from 'nats';
import { CloudEvent, RecordChangedData } from '@clinisync/contracts';

/** Every message currently stored in a JetStream stream, in stream order. */
export async function readStream(url: string, stream: string): Promise<{ subject: string; msgId?: string; event: CloudEvent<RecordChangedData> }[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info) return [];
    const out: { subject: string; msgId?: string; event: CloudEvent<RecordChangedData> }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (!m) continue;
      out.push({ subject: m.subject, msgId: m.header?.get('Nats-Msg-Id'), event: m.json<CloudEvent<RecordChangedData>>() });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Polls until `check` returns true (no fixed sleeps). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
