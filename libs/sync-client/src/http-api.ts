import { ApiErrorBody, ApiErrorDetail, Mutation, PushResponse, SyncRecord } from '@clinisync/contracts';
import { parseRetryAfter } from './backoff';
import { ConflictResolution, PullPage, ResolveConflictResponse } from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface SyncApiOptions {
  /** e.g. `http://127.0.0.1:3100` (sync-ingest) or the Kong URL; `/api/v1/...` is appended. */
  baseUrl: string;
  /** Returns a current bearer token; called before every request. */
  token: () => Promise<string>;
  /** Sent as `X-Device-Id` and as `deviceId` in push bodies. */
  deviceId: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  clock?: () => Date;
  /** A request still unanswered after this long is abandoned as a (retryable) network error. Default 60 s. */
  timeoutMs?: number;
  /**
   * Request bodies of at least this many bytes go `Content-Encoding: gzip` (where the runtime has
   * `CompressionStream`; plain otherwise). Default 1024; `Infinity` never compresses.
   */
  compressAboveBytes?: number;
}

/** Default of `SyncApiOptions.compressAboveBytes`. */
export const COMPRESS_ABOVE_BYTES = 1024;

/**
 * `text` gzip-compressed with the Web-standard `CompressionStream` (browsers, React Native with
 * it, Node 18+); undefined where the runtime has none or compressing fails, so the body goes plain.
 */
export async function gzipText(text: string): Promise<Uint8Array | undefined> {
  if (typeof CompressionStream !== 'function') return undefined;
  try {
    const stream = new CompressionStream('gzip');
    const writer = stream.writable.getWriter();
    void writer.write(new TextEncoder().encode(text)).catch(() => undefined);
    void writer.close().catch(() => undefined);
    const reader = stream.readable.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * An HTTP failure of a whole request. `status` 0 is a network error (no response). `retryable`
 * says whether sending the same request again later can succeed (network, 5xx, 429, 503).
 */
export class SyncHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly details?: ApiErrorDetail[],
    options?: { cause?: unknown },
    /** The `error` object of the response body, with any extra members the server added. */
    readonly body?: Record<string, unknown>,
  ) {
    super(message, options);
    this.name = 'SyncHttpError';
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** The platform's HTTP API as PROTOCOL.md describes it, and nothing else. */
export class SyncApi {
  private readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly clock: () => Date;

  constructor(private readonly options: SyncApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? (() => new Date());
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  /** `POST /api/v1/sync/push`. */
  push(mutations: Mutation[]): Promise<PushResponse> {
    return this.request<PushResponse>('POST', '/api/v1/sync/push', {
      deviceId: this.options.deviceId,
      mutations,
    });
  }

  /**
   * `GET /api/v1/sync/pull?cursor=&limit=` (cursor omitted on a first sync); `checkpoint`, a push
   * answer's, makes the pull read at least what that push wrote.
   */
  pull(cursor: string | null, limit: number, entities?: readonly string[], checkpoint?: string): Promise<PullPage> {
    const q = new URLSearchParams();
    if (cursor !== null) q.set('cursor', cursor);
    if (checkpoint !== undefined) q.set('checkpoint', checkpoint);
    q.set('limit', String(limit));
    if (entities && entities.length > 0) q.set('entities', entities.join(','));
    return this.request<PullPage>('GET', `/api/v1/sync/pull?${q.toString()}`);
  }

  /** `GET /api/v1/records/{entity}/{id}`; undefined on 404 (missing, deleted or not visible). */
  async getRecord(entity: string, id: string): Promise<SyncRecord | undefined> {
    try {
      return await this.request<SyncRecord>(
        'GET',
        `/api/v1/records/${encodeURIComponent(entity)}/${encodeURIComponent(id)}`,
      );
    } catch (e) {
      if (e instanceof SyncHttpError && e.status === 404 && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** `POST /api/v1/sync/conflicts/{conflictId}/resolve`. */
  resolveConflict(
    conflictId: string,
    body: { resolution: ConflictResolution; data?: Record<string, unknown>; reason?: string },
  ): Promise<ResolveConflictResponse> {
    return this.request<ResolveConflictResponse>(
      'POST',
      `/api/v1/sync/conflicts/${encodeURIComponent(conflictId)}/resolve`,
      body,
    );
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${await this.options.token()}`,
      'x-device-id': this.options.deviceId,
    };
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
      // UTF-16 length: a lower bound of the UTF-8 bytes, close enough for a threshold.
      if (payload.length >= (this.options.compressAboveBytes ?? COMPRESS_ABOVE_BYTES)) {
        const gzipped = await gzipText(payload);
        if (gzipped) {
          payload = gzipped;
          headers['content-encoding'] = 'gzip';
        }
      }
    }
    // Compressed answers: fetch sends Accept-Encoding itself and inflates them (browsers forbid setting it).
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (e) {
      throw new SyncHttpError(
        0,
        'NETWORK_ERROR',
        `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`,
        true,
        undefined,
        undefined,
        { cause: e },
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      // The connection dropped while the body was on its way: the server may have acted on it.
      throw new SyncHttpError(
        0,
        'NETWORK_ERROR',
        `${method} ${path}: response lost (${e instanceof Error ? e.message : String(e)})`,
        true,
        undefined,
        undefined,
        { cause: e },
      );
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as Partial<ApiErrorBody> | undefined)?.error;
      throw new SyncHttpError(
        res.status,
        err?.code ?? `HTTP_${res.status}`,
        `${method} ${path}: ${res.status} ${err?.message ?? res.statusText}`,
        isRetryableStatus(res.status),
        parseRetryAfter(res.headers.get('retry-after'), this.clock()),
        err?.details,
        undefined,
        err as Record<string, unknown> | undefined,
      );
    }
    if (json === undefined) {
      throw new SyncHttpError(
        res.status,
        'PROTOCOL_ERROR',
        `${method} ${path}: ${res.status} without a JSON body`,
        false,
      );
    }
    return json as T;
  }
}
