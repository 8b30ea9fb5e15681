import { accessSync, constants } from 'node:fs';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min, ValidateBy, ValidateIf, validateSync } from 'class-validator';
import { ProductionCheckOptions, assertProductionReady } from './production';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

const isSet = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '';

/** A path this process can read (a secret file mounted into the container). */
function IsReadableFile(): PropertyDecorator {
  return ValidateBy({
    name: 'isReadableFile',
    validator: {
      validate: (value: unknown) => {
        try {
          accessSync(String(value), constants.R_OK);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => 'not a readable file',
    },
  });
}

/** Fails when any of `others` is set too (one NATS credential per service). */
function NotWith(...others: string[]): PropertyDecorator {
  return ValidateBy({
    name: 'notWith',
    constraints: others,
    validator: {
      validate: (_value: unknown, args) => others.every((o) => !isSet((args?.object as Record<string, unknown>)[o])),
      defaultMessage: () => `set one NATS credential only, not together with ${others.join(' / ')}`,
    },
  });
}

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

  /**
   * NATS credential of this service, one of: NATS_USER + NATS_PASSWORD, NATS_CREDS_FILE, or
   * NATS_NKEY_SEED_FILE. None: an anonymous connection (the local nats-server of `npm start` and
   * the tests); production refuses that. The server's permissions per user: deploy/nats/auth.conf.
   */
  @ValidateIf((o: CommonConfig) => isSet(o.NATS_USER) || isSet(o.NATS_PASSWORD))
  @IsString()
  @IsNotEmpty({ message: 'required with NATS_PASSWORD' })
  @NotWith('NATS_CREDS_FILE', 'NATS_NKEY_SEED_FILE')
  NATS_USER?: string = undefined;

  /** Secret. */
  @ValidateIf((o: CommonConfig) => isSet(o.NATS_USER))
  @IsString()
  @IsNotEmpty({ message: 'required with NATS_USER' })
  NATS_PASSWORD?: string = undefined;

  /** A `.creds` file (user JWT and nkey seed; operator/JWT auth). Secret file. */
  @IsOptional()
  @IsReadableFile()
  @NotWith('NATS_NKEY_SEED_FILE')
  NATS_CREDS_FILE?: string = undefined;

  /** A file holding the user's nkey seed (`SU…`). Secret file. */
  @IsOptional()
  @IsReadableFile()
  NATS_NKEY_SEED_FILE?: string = undefined;

  /** CA certificate(s) that sign the NATS servers' certificates; setting it turns TLS on. */
  @IsOptional()
  @IsReadableFile()
  NATS_TLS_CA_FILE?: string = undefined;

  /** Client certificate for servers that verify clients (with NATS_TLS_KEY_FILE). */
  @ValidateIf((o: CommonConfig) => isSet(o.NATS_TLS_CERT_FILE) || isSet(o.NATS_TLS_KEY_FILE))
  @IsString({ message: 'required with NATS_TLS_KEY_FILE' })
  @IsReadableFile()
  NATS_TLS_CERT_FILE?: string = undefined;

  /** Key of NATS_TLS_CERT_FILE. Secret file. */
  @ValidateIf((o: CommonConfig) => isSet(o.NATS_TLS_CERT_FILE) || isSet(o.NATS_TLS_KEY_FILE))
  @IsString({ message: 'required with NATS_TLS_CERT_FILE' })
  @IsReadableFile()
  NATS_TLS_KEY_FILE?: string = undefined;

  /**
   * Replicas of the JetStream streams (CLINICAL, AUDIT) when this service creates them: 1 on a
   * single server, 3 on a 3-node cluster (compose, Kubernetes). An existing stream is left as it is.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5)
  NATS_STREAM_REPLICAS = 1;

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
export function loadConfig<T extends object>(
  cls: new () => T,
  env: Record<string, string | undefined> = process.env,
  options: ProductionCheckOptions = {},
): T {
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
  if ((config as { NODE_ENV?: string }).NODE_ENV === 'production') assertProductionReady(config as Record<string, unknown>, options);
  return config;
}
