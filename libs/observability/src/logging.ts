import { Params } from 'nestjs-pino';
import { CORRELATION_HEADER } from './correlation';

/** pino-http settings: JSON logs carrying the correlation id; never logs bodies or tokens (PHI). */
export function loggerParams(service: string, level = process.env.LOG_LEVEL ?? 'info'): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      genReqId: (req) => String(req.headers[CORRELATION_HEADER] ?? ''),
      customProps: (req) => ({ correlationId: req.headers[CORRELATION_HEADER] }),
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') || req.url === '/metrics' },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
        // The status is what an operator reads; the security headers on every answer are noise.
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
