import { createHash } from 'node:crypto';
import { PullCursor } from '@clinisync/sync-core';
import { PullPage } from './pull-response';

export interface PullReadAheadOptions {
  /** How long a page fetched ahead waits for its request; 0 turns read-ahead off. */
  ttlMs: number;
  /** Upper bound of the bytes held by pages fetched ahead (oldest dropped first). */
  maxBytes: number;
}

/** A page and the cursor it ends at (so the page after it needs no decoding of its cursor). */
export interface PagedAhead {
  page: PullPage;
  next: PullCursor;
}

/** What became of a page fetched ahead, or of a request that looked for one (metrics). */
export type ReadAheadOutcome = 'hit' | 'miss' | 'failed' | 'expired' | 'evicted';

interface Entry {
  page: Promise<PagedAhead | undefined>;
  at: number;
  bytes: number;
}

/** Bytes of record JSON a page holds. */
export function pageBytes(page: PullPage): number {
  let n = 0;
  for (const c of page.changes.values()) n += c.created.json.length + c.updated.json.length + c.deleted.json.length;
  return n;
}

/**
 * Read-ahead for pulls that page. A device on its first sync asks for page after page, each
 * with the cursor of the one before, so while it receives and parses one page the next is
 * already known: it is fetched from the modules at once and handed to the request that comes
 * with that cursor, from the same token and with the same query. A page fetched ahead is an
 * ordinary page taken a moment earlier: its snapshot is older, which delays a change
 * (to the next page) and never skips one, as for any pull. Nothing depends on the page being
 * here: a request that finds none (another instance, a new token, expired) computes its own.
 */
export class PullReadAhead {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(
    private readonly options: PullReadAheadOptions,
    private readonly onOutcome: (outcome: ReadAheadOutcome) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxBytes > 0;
  }

  /**
   * The key of a page: who asks (the whole token, hashed: same identity, claims and expiry)
   * and exactly what they ask for.
   */
  static key(token: string, cursor: string, limit: number, entities: readonly string[]): string {
    return `${createHash('sha256').update(token).digest('base64')}\n${cursor}\n${limit}\n${entities.join(',')}`;
  }

  /** The page fetched ahead for `key`, once; undefined when there is none or its fetch failed. */
  take(key: string): Promise<PagedAhead | undefined> | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      if (this.enabled) this.onOutcome('miss');
      return undefined;
    }
    this.drop(key, entry);
    if (this.now() - entry.at > this.options.ttlMs) {
      this.onOutcome('expired');
      return undefined;
    }
    return entry.page.then((page) => {
      this.onOutcome(page ? 'hit' : 'failed');
      return page;
    });
  }

  /** Starts fetching the page for `key` (unless one is held already). */
  offer(key: string, load: () => Promise<PagedAhead>): void {
    if (!this.enabled || this.entries.has(key)) return;
    this.sweep();
    const entry: Entry = { at: this.now(), bytes: 0, page: Promise.resolve(undefined) };
    // A failed fetch is only a missed shortcut: the request computes its page itself.
    entry.page = load().then(
      (page) => {
        if (this.entries.get(key) === entry) {
          entry.bytes = pageBytes(page.page);
          this.held += entry.bytes;
          this.trim();
        }
        return page;
      },
      () => undefined,
    );
    this.entries.set(key, entry);
  }

  /** Pages held, and their bytes (tests, metrics). */
  size(): { pages: number; bytes: number } {
    return { pages: this.entries.size, bytes: this.held };
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.held -= entry.bytes;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (now - entry.at <= this.options.ttlMs) break; // insertion order is age order
      this.drop(key, entry);
      this.onOutcome('expired');
    }
  }

  private trim(): void {
    for (const [key, entry] of this.entries) {
      if (this.held <= this.options.maxBytes) break;
      if (entry.bytes === 0) continue; // still being fetched
      this.drop(key, entry);
      this.onOutcome('evicted');
    }
  }
}
