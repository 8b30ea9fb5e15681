import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { ModuleName } from '@clinisync/contracts';
import { BinaryReplySerializer, natsSecurityOptions, parseServers } from '@clinisync/messaging';
import { ModuleServiceConfig } from './module-config';
import { serveModuleDocs } from './openapi';
import { configureModuleHttp } from './module-http';

/**
 * Starts a module service: HTTP (health, metrics, internal fallback) plus the NATS
 * request-reply listener in a queue group, so instances share the load.
 */
export async function startModuleService(module: ModuleName, appModule: Parameters<typeof NestFactory.create>[0], config: ModuleServiceConfig): Promise<INestApplication> {
  const app = await NestFactory.create(appModule, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  configureModuleHttp(app, config);
  serveModuleDocs(app, module);
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.NATS,
      options: {
        servers: parseServers(config.NATS_URL),
        // The module's NATS user may subscribe to its own command subjects and reply (deploy/nats/auth.conf).
        ...natsSecurityOptions(config),
        queue: module,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        waitOnFirstConnect: true,
        // Feed pages go out as bytes (records serialised once), everything else as JSON.
        serializer: new BinaryReplySerializer(),
      },
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}
