import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min, validateSync } from 'class-validator';
import { assertProductionReady } from './production';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/**
 * Settings every CliniSync service reads. Each service extends this class; the environment is
 * validated once at start-up and the service stops with the variable's name and problem.
 */
export class CommonConfig {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Interface the HTTP server binds to (0.0.0.0 in containers). */
  @IsString()
  HOST = '127.0.0.1';

  /** Owner connection (host, port, database); services swap in their own role. */
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/clinisync';

  @IsString()
  DATABASE_APP_USER = 'clinisync_app';

  /** Secret. */
  @IsOptional()
  @IsString()
  DATABASE_APP_PASSWORD = 'clinisync_app_dev';

  @IsString()
  DATABASE_RELAY_USER = 'clinisync_relay';

  /** Secret. */
  @IsOptional()
  @IsString()
  DATABASE_RELAY_PASSWORD = 'clinisync_relay_dev';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 20;

  /** Comma-separated NATS servers. */
  @IsString()
  NATS_URL = 'nats://127.0.0.1:4222';

  @IsOptional()
  @IsUrl({ require_tld: false })
  AUTH_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  AUTH_PUBLIC_KEY_FILE?: string;

  /** Dev issuer key directory, used when neither AUTH_JWKS_URL nor AUTH_PUBLIC_KEY_FILE is set. */
  @IsString()
  AUTH_DEV_ISSUER_DIR = '.data/dev-issuer';

  @IsString()
  AUTH_ISSUER = 'clinisync-dev';

  @IsString()
  AUTH_AUDIENCE = 'clinisync';

  /** Seconds of clock skew allowed on a token's `exp`, `nbf` and `iat` (jose `clockTolerance`). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  JWT_CLOCK_TOLERANCE_S = 30;

  /**
   * How long a JWKS fetched from AUTH_JWKS_URL is trusted before it is fetched again (jose
   * `cacheMaxAge`). A key removed from the JWKS stops verifying within
   * AUTH_JWKS_CACHE_MS + AUTH_TOKEN_CACHE_MS.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  AUTH_JWKS_CACHE_MS = 60_000;

  /** How long a verified token's principal is remembered (never past its `exp`); 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  AUTH_TOKEN_CACHE_MS = 60_000;

  /**
   * Largest accepted request body: sync-ingest's edge limit (413 above) and, being the same
   * variable, the limit of the module services' internal HTTP endpoints, which receive no more
   * than what sync-ingest accepted.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 2 * 1024 * 1024;

  /**
   * Comma-separated browser origins allowed by CORS (credentials allowed, never `*`). Unset: the
   * localhost dev origins outside production, none in production.
   */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string = undefined;
}

/** Validates `env` into `cls`, or throws one error naming every bad variable. */
export function loadConfig<T extends object>(cls: new () => T, env: Record<string, string | undefined> = process.env): T {
  const defaults = new cls() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) if (env[key] !== undefined && env[key] !== '') raw[key] = env[key];
  for (const key of Object.keys(env)) if (!(key in raw) && key in defaults && env[key] !== '') raw[key] = env[key];
  const config = plainToInstance(cls, { ...defaults, ...raw });
  const errors = validateSync(config, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}=${JSON.stringify(raw[e.property] ?? defaults[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  if ((config as { NODE_ENV?: string }).NODE_ENV === 'production') assertProductionReady(config as Record<string, unknown>);
  return config;
}
