import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { json } from 'express';
import { Logger } from 'nestjs-pino';
import { compressHttpResponses, correlationMiddleware, secureHttpApp } from '@clinisync/observability';
import { SyncIngestAppModule } from './app.module';
import { SyncIngestConfig } from './config';
import { bodyParserErrorHandler } from './http/http-error.filter';
import { JwtVerifier } from '@clinisync/auth';
import { AdmissionControl } from './admission/admission.provider';
import { serveSyncIngestDocs } from './http/openapi';
import { requestEncodingGuard } from './http/content-encoding';

/**
 * Builds the HTTP app: correlation id, answers compressed per Accept-Encoding, admission, the
 * request encoding check, the body limit (after inflating) with protocol errors, then Nest routes.
 */
export async function createSyncIngestApp(config: SyncIngestConfig): Promise<INestApplication> {
  const app = await NestFactory.create(SyncIngestAppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  secureHttpApp(app, config);
  app.use(correlationMiddleware);
  compressHttpResponses(app);
  // Admission (429/503) before the body is read: a refused push stored nothing.
  app.use(app.get(AdmissionControl).middleware(app.get(JwtVerifier)));
  app.use(requestEncodingGuard);
  // inflate (default true): gzip, br and deflate bodies are inflated here, the limit counts inflated bytes.
  app.use(json({ limit: config.BODY_LIMIT_BYTES, strict: false, inflate: true }));
  app.use(bodyParserErrorHandler);
  serveSyncIngestDocs(app);
  app.enableShutdownHooks();
  return app;
}
