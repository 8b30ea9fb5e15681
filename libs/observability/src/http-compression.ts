import { INestApplication } from '@nestjs/common';
import compression from 'compression';
import type { Request, Response } from 'express';

/** Answers shorter than this go out as they are: compressing them costs more than it saves. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/** Streamed exports (`application/x-ndjson`) are text too; mime-db does not mark them compressible. */
const NDJSON = /^application\/x-ndjson\b/i;

function compressible(req: Request, res: Response): boolean {
  const type = res.getHeader('Content-Type');
  if (typeof type === 'string' && NDJSON.test(type)) return true;
  return compression.filter(req, res);
}

/**
 * Answers compressed per `Accept-Encoding` (br, gzip, deflate; `compression`'s negotiation) when
 * they are at least 1 KiB and of a compressible type; `Content-Type` is kept, `Content-Length`
 * dropped for compressed answers, `Vary: Accept-Encoding` set. Streams stay streams. Mounted
 * before the routes; `finish`/`close` still fire once the compressed answer is out.
 */
export function compressHttpResponses(app: INestApplication): void {
  app.use(compression({ threshold: COMPRESSION_THRESHOLD_BYTES, filter: compressible }));
}
