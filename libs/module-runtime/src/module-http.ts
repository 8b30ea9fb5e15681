import { INestApplication } from '@nestjs/common';
import { json } from 'express';
import { correlationMiddleware, secureHttpApp } from '@clinisync/observability';
import { ModuleServiceConfig } from './module-config';

/**
 * The HTTP side of a module service before its routes: security headers and CORS, the
 * correlation id, and a JSON body limit of BODY_LIMIT_BYTES, the same variable as sync-ingest's
 * edge limit, so the internal endpoints never accept more than the edge does.
 */
export function configureModuleHttp(app: INestApplication, config: Pick<ModuleServiceConfig, 'NODE_ENV' | 'CORS_ORIGINS' | 'BODY_LIMIT_BYTES'>): void {
  secureHttpApp(app, config);
  app.use(correlationMiddleware);
  app.use(json({ limit: config.BODY_LIMIT_BYTES }));
}
