import { decodeCheckpoint, encodeCheckpoint, PushCheckpoint } from '@clinisync/sync-core';

/** Push checkpoints signed with the cursor secret (see `encodeCheckpoint`). */
export class CheckpointCodec {
  constructor(private readonly secret: string) {}

  encode(tenantId: string, xids: Record<string, string>): string {
    return encodeCheckpoint({ tenantId, xids }, this.secret);
  }

  decode(token: string, tenantId: string): PushCheckpoint {
    return decodeCheckpoint(token, this.secret, tenantId);
  }
}
