import { INestApplication } from '@nestjs/common';
import { NextFunction, Request, Response, json } from 'express';
import { correlationMiddleware, secureHttpApp } from '@clinisync/observability';
import { ModuleServiceConfig } from './module-config';
import { ModuleCommandErrorCode } from './module-commands.errors';

/**
 * The HTTP side of a module service before its routes: security headers and CORS, the
 * correlation id, and a JSON body limit of BODY_LIMIT_BYTES, the same variable as sync-ingest's
 * edge limit, so the internal endpoints never accept more than the edge does.
 */
export function configureModuleHttp(app: INestApplication, config: Pick<ModuleServiceConfig, 'NODE_ENV' | 'CORS_ORIGINS' | 'BODY_LIMIT_BYTES'>): void {
  secureHttpApp(app, config);
  app.use(correlationMiddleware);
  app.use(json({ limit: config.BODY_LIMIT_BYTES }));
  app.use(bodyParserErrors);
}

/**
 * A body the JSON parser refuses (not JSON, over the limit, an unsupported charset or encoding)
 * answers in the module's error shape with a 4xx, like every other refusal of a command;
 * Express's default handler would answer an HTML page.
 */
function bodyParserErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (typeof e?.type !== 'string' || typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return next(err);
  const status = e.type === 'entity.too.large' ? 413 : e.status === 415 ? 415 : 400;
  const message = status === 413 ? 'body larger than BODY_LIMIT_BYTES' : status === 415 ? 'unsupported body encoding or charset' : 'body is not valid JSON';
  res.status(status).json({ error: { code: ModuleCommandErrorCode.BAD_COMMAND, message } });
}
