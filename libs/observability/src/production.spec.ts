import { CommonConfig, loadConfig } from './config';
import { DEV_CURSOR_SECRET, productionProblems } from './production';

/** A production environment with real values for every common setting. */
const realCommon = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://owner:s3cret-Owner-pw@db.internal:5432/clinisync',
  DATABASE_APP_PASSWORD: 'app-pw-from-the-secret-store',
  DATABASE_RELAY_PASSWORD: 'relay-pw-from-the-secret-store',
  AUTH_JWKS_URL: 'https://idp.example.org/realms/clinisync/protocol/openid-connect/certs',
  AUTH_ISSUER: 'https://idp.example.org/realms/clinisync',
};

const errorOf = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(CommonConfig, env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
};

describe('production configuration (common settings)', () => {
  it('refuses the dev defaults with NODE_ENV=production, naming every variable in one error', () => {
    const message = errorOf({ NODE_ENV: 'production' });
    expect(message).toMatch(/^Refusing to start with NODE_ENV=production:/);
    for (const name of ['DATABASE_URL', 'DATABASE_APP_PASSWORD', 'DATABASE_RELAY_PASSWORD', 'AUTH_JWKS_URL', 'AUTH_ISSUER']) {
      expect(message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    }
    expect(message.split('\n')).toHaveLength(6);
  });

  it.each<[string, Record<string, string>, string]>([
    ['the owner URL without a password', { DATABASE_URL: 'postgres://postgres@db:5432/clinisync' }, 'DATABASE_URL'],
    ['the compose owner password', { DATABASE_URL: 'postgres://postgres:postgres@db:5432/clinisync' }, 'DATABASE_URL'],
    ['the compose app password', { DATABASE_APP_PASSWORD: 'clinisync_app' }, 'DATABASE_APP_PASSWORD'],
    ['the default relay password', { DATABASE_RELAY_PASSWORD: 'clinisync_relay_dev' }, 'DATABASE_RELAY_PASSWORD'],
    ['neither a JWKS nor a PEM (dev issuer trusted)', { AUTH_JWKS_URL: '' }, 'AUTH_JWKS_URL'],
    ['the dev issuer name', { AUTH_ISSUER: 'clinisync-dev' }, 'AUTH_ISSUER'],
  ])('refuses %s, naming only that variable', (_case, override, name) => {
    const message = errorOf({ ...realCommon, ...override });
    expect(message.split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^  ${name}: `))]);
  });

  it('never prints a secret value', () => {
    const message = errorOf({ ...realCommon, DATABASE_APP_PASSWORD: 'clinisync_app', DATABASE_URL: 'postgres://postgres:postgres@db/clinisync' });
    expect(message).not.toContain('clinisync_app');
    expect(message).not.toContain('postgres:postgres');
  });

  it('starts with real values (a JWKS URL or a PEM file)', () => {
    expect(loadConfig(CommonConfig, realCommon).NODE_ENV).toBe('production');
    const pem = { ...realCommon, AUTH_JWKS_URL: undefined, AUTH_PUBLIC_KEY_FILE: '/etc/clinisync/auth/idp.pem' };
    expect(loadConfig(CommonConfig, pem).AUTH_PUBLIC_KEY_FILE).toBe('/etc/clinisync/auth/idp.pem');
  });

  it.each(['development', 'test', undefined])('keeps the easy dev defaults with NODE_ENV=%p', (nodeEnv) => {
    const config = loadConfig(CommonConfig, { NODE_ENV: nodeEnv });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/clinisync',
      DATABASE_APP_PASSWORD: 'clinisync_app_dev',
      AUTH_ISSUER: 'clinisync-dev',
      AUTH_DEV_ISSUER_DIR: '.data/dev-issuer',
    });
    expect(config.AUTH_JWKS_URL).toBeUndefined();
  });

  it('checks a service-specific secret or failpoint only where the configuration has it', () => {
    const base = loadConfig(CommonConfig, realCommon) as unknown as Record<string, unknown>;
    expect(productionProblems(base)).toEqual([]);
    expect(productionProblems({ ...base, CURSOR_SECRET: DEV_CURSOR_SECRET })).toEqual([expect.stringMatching(/^CURSOR_SECRET: /)]);
    expect(productionProblems({ ...base, CURSOR_SECRET: undefined })).toEqual([expect.stringMatching(/^CURSOR_SECRET: /)]);
    expect(productionProblems({ ...base, CLINISYNC_FAILPOINT: 'after-commit-before-reply' })).toEqual([expect.stringMatching(/^CLINISYNC_FAILPOINT: /)]);
    expect(productionProblems({ ...base, CLINISYNC_FAILPOINT: undefined })).toEqual([]);
  });

  it('reads the auth cache lifetimes, clock tolerance and body limit with their defaults', () => {
    expect(loadConfig(CommonConfig, {})).toMatchObject({ JWT_CLOCK_TOLERANCE_S: 30, AUTH_JWKS_CACHE_MS: 60_000, AUTH_TOKEN_CACHE_MS: 60_000, BODY_LIMIT_BYTES: 2_097_152 });
    expect(loadConfig(CommonConfig, { JWT_CLOCK_TOLERANCE_S: '5', AUTH_JWKS_CACHE_MS: '10000' })).toMatchObject({ JWT_CLOCK_TOLERANCE_S: 5, AUTH_JWKS_CACHE_MS: 10_000 });
    expect(() => loadConfig(CommonConfig, { JWT_CLOCK_TOLERANCE_S: '-1' })).toThrow(/JWT_CLOCK_TOLERANCE_S/);
  });
});
