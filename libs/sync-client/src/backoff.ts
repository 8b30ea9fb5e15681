/** Retry timing: capped exponential backoff with full jitter, on top of the server's Retry-After when it sends one. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 500 ms. */
  baseDelayMs: number;
  /** Cap of the exponential delay. Default 60 s. */
  maxDelayMs: number;
  /** Attempts (first try included) before a run gives up and leaves the work queued. Default 6. */
  maxAttempts: number;
  /** A Retry-After longer than this ends the run instead of blocking it. Default 5 min. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxAttempts: 6,
  maxRetryAfterMs: 300_000,
};

/**
 * Delay before retry number `attempt` (1 = first retry): "full jitter", i.e. a random share of
 * min(max, base * 2^(attempt-1)), so delays grow exponentially up to the cap yet devices that
 * failed together (a reconnect storm) spread over the whole window instead of retrying together.
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * The delay to wait. With the server's Retry-After (429, 503, 409 in flight): never less than
 * it, plus the full-jitter backoff of this attempt on top, so a crowd the server refused with
 * the same Retry-After comes back spread out, further apart the more often it was refused.
 * Without one: the full-jitter backoff.
 */
export function retryDelay(
  attempt: number,
  random: () => number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  if (retryAfterMs !== undefined) return Math.max(0, Math.round(retryAfterMs)) + backoffDelay(attempt, random, options);
  return backoffDelay(attempt, random, options);
}

/** Parses a Retry-After header (delta-seconds or HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
