import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { json } from 'express';
import { Logger } from 'nestjs-pino';
import { correlationMiddleware } from '@clinisync/observability';
import { SyncIngestAppModule } from './app.module';
import { SyncIngestConfig } from './config';
import { bodyParserErrorHandler } from './http/http-error.filter';

/** Builds the HTTP app: correlation id, the body limit with protocol errors, then Nest routes. */
export async function createSyncIngestApp(config: SyncIngestConfig): Promise<INestApplication> {
  const app = await NestFactory.create(SyncIngestAppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.use(correlationMiddleware);
  app.use(json({ limit: config.BODY_LIMIT_BYTES, strict: false }));
  app.use(bodyParserErrorHandler);
  app.enableShutdownHooks();
  return app;
}
