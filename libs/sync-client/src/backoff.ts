/** Retry timing: exponential backoff with jitter, and the server's Retry-After when it sends one. */
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
 * Delay before retry number `attempt` (1 = first retry): "equal jitter", i.e. half of
 * min(max, base * 2^(attempt-1)) plus a random share of the other half, so delays grow
 * exponentially yet devices that failed together do not retry together.
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The delay to wait: the server's Retry-After when given (never less), plus up to 10% (at most
 * 1 s) of jitter; otherwise the exponential backoff.
 */
export function retryDelay(
  attempt: number,
  random: () => number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  if (retryAfterMs !== undefined) {
    const wait = Math.max(0, retryAfterMs);
    return Math.round(wait + random() * Math.min(1_000, wait * 0.1));
  }
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
