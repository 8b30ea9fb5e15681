import { Tx } from '@clinisync/persistence';

/** The pull high-water mark: no transaction below it can still commit. */
export class FeedSnapshotRepository {
  async highWater(tx: Tx): Promise<string> {
    const [row] = await tx.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
    return row.xmin;
  }
}
