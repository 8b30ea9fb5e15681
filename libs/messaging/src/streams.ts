import { JetStreamManager, NatsConnection, RetentionPolicy, StorageType, nanos } from 'nats';
import { AUDIT_STREAM, AUDIT_SUBJECTS, CLINICAL_STREAM, CLINICAL_SUBJECTS } from '@clinisync/contracts';

export interface StreamSpec {
  name: string;
  subjects: string[];
  maxAgeSeconds: number;
  duplicateWindowSeconds: number;
  replicas: number;
}

export const DAY = 24 * 3600;

/**
 * The CLINICAL stream. `replicas`: the service's `NATS_STREAM_REPLICAS` (CommonConfig; 1 on a
 * single local server, 3 on the JetStream clusters of compose and Kubernetes, where an
 * acknowledged publish is then on two of three nodes, each fsynced with `sync_interval: always`).
 */
export function clinicalStream(replicas = 1): StreamSpec {
  return { name: CLINICAL_STREAM, subjects: [CLINICAL_SUBJECTS], maxAgeSeconds: 30 * DAY, duplicateWindowSeconds: 120, replicas };
}

/** Audit events are kept much longer than clinical change events. `replicas`: as `clinicalStream`. */
export function auditStream(replicas = 1): StreamSpec {
  return { name: AUDIT_STREAM, subjects: [AUDIT_SUBJECTS], maxAgeSeconds: 3650 * DAY, duplicateWindowSeconds: 120, replicas };
}

/** Creates the stream when missing; an existing stream is left as its operators configured it. */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec): Promise<void> {
  const jsm: JetStreamManager = await nc.jetstreamManager();
  try {
    await jsm.streams.info(spec.name);
  } catch (e) {
    if (!/stream not found/i.test(String((e as Error).message))) throw e;
    try {
      await jsm.streams.add({
        name: spec.name,
        subjects: spec.subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        max_age: nanos(spec.maxAgeSeconds * 1000),
        duplicate_window: nanos(spec.duplicateWindowSeconds * 1000),
        num_replicas: spec.replicas,
      });
    } catch (addError) {
      // Another instance created it first.
      if (!/already in use|stream name already/i.test(String((addError as Error).message))) throw addError;
    }
  }
}
