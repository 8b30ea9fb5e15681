import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { compressHttpResponses, correlationMiddleware, secureHttpApp } from '@clinisync/observability';
import { AuditAppModule } from './app.module';
import { AuditConfig } from './config';
import { serveAuditDocs } from './http/openapi';

/** Builds the HTTP app: correlation id, answers compressed per Accept-Encoding, then Nest routes. Every route is a GET: no body parser. */
export async function createAuditApp(config: AuditConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AuditAppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  secureHttpApp(app, config);
  app.use(correlationMiddleware);
  compressHttpResponses(app);
  serveAuditDocs(app);
  app.enableShutdownHooks();
  return app;
}
