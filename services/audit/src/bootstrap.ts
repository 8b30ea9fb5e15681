import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { correlationMiddleware } from '@clinisync/observability';
import { AuditAppModule } from './app.module';
import { AuditConfig } from './config';

/** Builds the HTTP app: correlation id, then Nest routes. Every route is a GET: no body parser. */
export async function createAuditApp(config: AuditConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AuditAppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.use(correlationMiddleware);
  app.enableShutdownHooks();
  return app;
}
