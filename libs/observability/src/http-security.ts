import { INestApplication } from '@nestjs/common';
import helmet from 'helmet';

/** The settings `secureHttpApp` reads (a subset of CommonConfig). */
export interface HttpSecurityEnv {
  NODE_ENV: 'development' | 'production' | 'test';
  CORS_ORIGINS?: string;
}

/** Any port of localhost / 127.0.0.1 / [::1] over http or https: the web apps' dev servers. */
export const DEV_CORS_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/** Request headers a browser app may send (PROTOCOL.md): everything else fails the preflight. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Content-Encoding', 'X-Correlation-Id', 'X-Device-Id'];
/** Response headers a browser app may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['X-Correlation-Id', 'Retry-After'];

/**
 * The origins CORS allows: CORS_ORIGINS (comma-separated, exact origins) when set; else the
 * localhost dev origins outside production and none in production. `*` is refused: credentials
 * (the bearer token) are allowed, so every allowed origin is named.
 */
export function corsOrigins(env: HttpSecurityEnv): (string | RegExp)[] {
  const listed = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (listed.includes('*')) throw new Error('CORS_ORIGINS: "*" is not allowed; name each web app origin');
  for (const origin of listed) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
    }
    if (parsed.origin !== origin) throw new Error(`CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path or trailing slash)`);
  }
  if (listed.length > 0) return listed;
  return env.NODE_ENV === 'production' ? [] : [DEV_CORS_ORIGIN];
}

/**
 * Security headers (helmet defaults: CSP, HSTS, nosniff, same-origin framing, no referrer…),
 * no `X-Powered-By`, and CORS for the web apps' origins only. Every HTTP service calls this
 * first in its bootstrap, before any route or body parser, so preflights are answered early.
 */
export function secureHttpApp(app: INestApplication, env: HttpSecurityEnv): void {
  const origins = corsOrigins(env);
  const http = app.getHttpAdapter().getInstance() as { disable?: (setting: string) => void };
  http.disable?.('x-powered-by');
  app.use(helmet());
  app.enableCors({
    origin: origins.length > 0 ? origins : false,
    credentials: true,
    methods: ['GET', 'POST', 'PATCH'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
    optionsSuccessStatus: 204,
  });
}
