import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min, validateSync } from 'class-validator';

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
  return config;
}
