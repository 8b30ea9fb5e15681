import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommonConfig, loadConfig } from './config';
import { DEV_CURSOR_SECRET, DEV_NATS_PASSWORDS, productionProblems } from './production';

/** A production environment with real values for every common setting. */
const realCommon = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://owner:s3cret-Owner-pw@db.internal:5432/clinisync',
  DATABASE_APP_PASSWORD: 'app-pw-from-the-secret-store',
  DATABASE_RELAY_PASSWORD: 'relay-pw-from-the-secret-store',
  AUTH_JWKS_URL: 'https://idp.example.org/realms/clinisync/protocol/openid-connect/certs',
  AUTH_ISSUER: 'https://idp.example.org/realms/clinisync',
  NATS_USER: 'sync-ingest',
  NATS_PASSWORD: 'nats-pw-from-the-secret-store',
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
    for (const name of ['DATABASE_URL', 'DATABASE_APP_PASSWORD', 'DATABASE_RELAY_PASSWORD', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'NATS_USER']) {
      expect(message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    }
    expect(message.split('\n')).toHaveLength(7);
  });

  it.each<[string, Record<string, string>, string]>([
    ['the owner URL without a password', { DATABASE_URL: 'postgres://postgres@db:5432/clinisync' }, 'DATABASE_URL'],
    ['the compose owner password', { DATABASE_URL: 'postgres://postgres:postgres@db:5432/clinisync' }, 'DATABASE_URL'],
    ['the compose app password', { DATABASE_APP_PASSWORD: 'clinisync_app' }, 'DATABASE_APP_PASSWORD'],
    ['the default relay password', { DATABASE_RELAY_PASSWORD: 'clinisync_relay_dev' }, 'DATABASE_RELAY_PASSWORD'],
    ['neither a JWKS nor a PEM (dev issuer trusted)', { AUTH_JWKS_URL: '' }, 'AUTH_JWKS_URL'],
    ['the dev issuer name', { AUTH_ISSUER: 'clinisync-dev' }, 'AUTH_ISSUER'],
    ['no NATS credential (an anonymous connection)', { NATS_USER: '', NATS_PASSWORD: '' }, 'NATS_USER'],
    ['the compose NATS password', { NATS_PASSWORD: 'sync-ingest-nats-dev' }, 'NATS_PASSWORD'],
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

  describe('NATS credentials and TLS', () => {
    let dir: string;
    let file: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'clinisync-nats-config-'));
      file = join(dir, 'secret');
      writeFileSync(file, 'SUAEXAMPLE');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('needs no credential outside production (anonymous, as the local nats-server)', () => {
      expect(loadConfig(CommonConfig, {})).toMatchObject({ NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_STREAM_REPLICAS: 1 });
    });

    it('starts in production with a creds file or an nkey seed file instead of a password', () => {
      const noPassword = { ...realCommon, NATS_USER: undefined, NATS_PASSWORD: undefined };
      expect(loadConfig(CommonConfig, { ...noPassword, NATS_CREDS_FILE: file }).NATS_CREDS_FILE).toBe(file);
      expect(loadConfig(CommonConfig, { ...noPassword, NATS_NKEY_SEED_FILE: file }).NATS_NKEY_SEED_FILE).toBe(file);
    });

    it('does not ask migrate (no NATS connection) for a NATS credential', () => {
      const migrate = { ...realCommon, NATS_USER: undefined, NATS_PASSWORD: undefined };
      expect(loadConfig(CommonConfig, migrate, { nats: false }).NODE_ENV).toBe('production');
      expect(() => loadConfig(CommonConfig, migrate)).toThrow(/^ {2}NATS_USER: /m);
    });

    it.each<[string, Record<string, string>, RegExp]>([
      ['a user without a password', { NATS_USER: 'audit' }, /NATS_PASSWORD=.*required with NATS_USER/],
      ['a password without a user', { NATS_PASSWORD: 'pw' }, /NATS_USER=.*required with NATS_PASSWORD/],
      ['a password and a creds file', { NATS_USER: 'audit', NATS_PASSWORD: 'pw', NATS_CREDS_FILE: '<file>' }, /NATS_USER=.*one NATS credential only/],
      ['a creds file and an nkey seed', { NATS_CREDS_FILE: '<file>', NATS_NKEY_SEED_FILE: '<file>' }, /NATS_CREDS_FILE=.*one NATS credential only/],
      ['a missing CA file', { NATS_TLS_CA_FILE: '/nonexistent/ca.pem' }, /NATS_TLS_CA_FILE=.*not a readable file/],
      ['a client certificate without its key', { NATS_TLS_CERT_FILE: '<file>' }, /NATS_TLS_KEY_FILE=.*required with NATS_TLS_CERT_FILE/],
      ['replicas out of range', { NATS_STREAM_REPLICAS: '0' }, /NATS_STREAM_REPLICAS=/],
    ])('names the variable of %s (any NODE_ENV)', (_case, env, error) => {
      const withFile = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '<file>' ? file : v]));
      expect(() => loadConfig(CommonConfig, withFile)).toThrow(error);
    });

    it('accepts TLS files and reads the stream replicas', () => {
      expect(loadConfig(CommonConfig, { NATS_TLS_CA_FILE: file, NATS_TLS_CERT_FILE: file, NATS_TLS_KEY_FILE: file, NATS_STREAM_REPLICAS: '3' })).toMatchObject({
        NATS_TLS_CA_FILE: file,
        NATS_STREAM_REPLICAS: 3,
      });
    });

    it('never prints the NATS password', () => {
      const message = errorOf({ ...realCommon, NATS_PASSWORD: DEV_NATS_PASSWORDS[0] });
      expect(message).not.toContain(DEV_NATS_PASSWORDS[0]);
    });
  });

  it('reads the auth cache lifetimes, clock tolerance and body limit with their defaults', () => {
    expect(loadConfig(CommonConfig, {})).toMatchObject({ JWT_CLOCK_TOLERANCE_S: 30, AUTH_JWKS_CACHE_MS: 60_000, AUTH_TOKEN_CACHE_MS: 60_000, BODY_LIMIT_BYTES: 2_097_152 });
    expect(loadConfig(CommonConfig, { JWT_CLOCK_TOLERANCE_S: '5', AUTH_JWKS_CACHE_MS: '10000' })).toMatchObject({ JWT_CLOCK_TOLERANCE_S: 5, AUTH_JWKS_CACHE_MS: 10_000 });
    expect(() => loadConfig(CommonConfig, { JWT_CLOCK_TOLERANCE_S: '-1' })).toThrow(/JWT_CLOCK_TOLERANCE_S/);
  });
});
