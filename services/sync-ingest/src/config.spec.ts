import { syncIngestConfig } from './config';
import { aProductionEnv } from '../../../test/support/builders';

/** sync-ingest in production with real values for everything it reads. */
const production = aProductionEnv('sync-ingest', { CURSOR_SECRET: 'q0x8mY2v3nQk7Jp1Zr5Tb9Lw4Hc6Fd8S' });

describe('sync-ingest configuration', () => {
  it('refuses to start in production with the dev defaults, naming each variable once', () => {
    expect(() => syncIngestConfig({ NODE_ENV: 'production' })).toThrow(
      /NODE_ENV=production:\n {2}DATABASE_URL: .*\n {2}DATABASE_APP_PASSWORD: .*\n {2}DATABASE_RELAY_PASSWORD: .*\n {2}CURSOR_SECRET: .*\n {2}AUTH_JWKS_URL: .*\n {2}AUTH_ISSUER: .*\n {2}NATS_USER: .*$/,
    );
  });

  it.each(['clinisync-dev-cursor-secret-change-me', 'dev-only-cursor-secret-change-me'])('refuses the dev cursor secret %p in production', (secret) => {
    expect(() => syncIngestConfig({ ...production, CURSOR_SECRET: secret })).toThrow(/^ {2}CURSOR_SECRET: missing or the development default/m);
  });

  it('starts in production with real values', () => {
    expect(syncIngestConfig(production)).toMatchObject({ NODE_ENV: 'production', CURSOR_SECRET: production.CURSOR_SECRET, BODY_LIMIT_BYTES: 2 * 1024 * 1024 });
  });

  it('keeps its easy defaults in development', () => {
    expect(syncIngestConfig({ NODE_ENV: 'development' })).toMatchObject({
      CURSOR_SECRET: 'clinisync-dev-cursor-secret-change-me',
      AUTH_ISSUER: 'clinisync-dev',
      DATABASE_APP_PASSWORD: 'clinisync_app_dev',
      BODY_LIMIT_BYTES: 2_097_152,
    });
  });

  it('keeps decided mutations 90 days by default and refuses a ledger retention under the 30 days PROTOCOL promises', () => {
    expect(syncIngestConfig({ NODE_ENV: 'development' }).LEDGER_RETENTION_DAYS).toBe(90);
    expect(syncIngestConfig({ NODE_ENV: 'development', LEDGER_RETENTION_DAYS: '30' }).LEDGER_RETENTION_DAYS).toBe(30);
    expect(() => syncIngestConfig({ NODE_ENV: 'development', LEDGER_RETENTION_DAYS: '29' })).toThrow(/LEDGER_RETENTION_DAYS/);
  });

  it('still names a malformed value before any production check', () => {
    expect(() => syncIngestConfig({ ...production, BODY_LIMIT_BYTES: '12' })).toThrow(/Invalid configuration:\n {2}BODY_LIMIT_BYTES=/);
  });
});
