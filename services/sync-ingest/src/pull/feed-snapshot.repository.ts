import { DataSource } from 'typeorm';

/** The pull high-water mark: no transaction below it can still commit. */
export class FeedSnapshotRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One statement, no transaction: the mark is global (xids are not per tenant) and reads no rows. */
  async highWater(): Promise<string> {
    const [row] = (await this.dataSource.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin')) as { xmin: string }[];
    return row.xmin;
  }
}
