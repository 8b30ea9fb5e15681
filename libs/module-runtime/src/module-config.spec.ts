import { CommonConfig, loadConfig } from '@clinisync/observability';
import { ModuleServiceConfig } from './module-config';
import { aProductionEnv } from '../../../test/support/builders';

const production = aProductionEnv('patients');

describe('module service configuration (patients, pharmacy, inventory)', () => {
  it('refuses to start in production with the dev defaults and a failpoint, naming each variable', () => {
    expect(() => loadConfig(ModuleServiceConfig, { NODE_ENV: 'production', CLINISYNC_FAILPOINT: 'after-commit-before-reply' })).toThrow(
      /NODE_ENV=production:\n {2}DATABASE_URL: .*\n {2}DATABASE_APP_PASSWORD: .*\n {2}DATABASE_RELAY_PASSWORD: .*\n {2}AUTH_JWKS_URL: .*\n {2}AUTH_ISSUER: .*\n {2}NATS_USER: .*\n {2}CLINISYNC_FAILPOINT: .*$/,
    );
  });

  it('refuses a failpoint in production even with real values', () => {
    expect(() => loadConfig(ModuleServiceConfig, { ...production, CLINISYNC_FAILPOINT: 'after-commit-before-reply' })).toThrow(/^ {2}CLINISYNC_FAILPOINT: failpoints are for tests only/m);
  });

  it('starts in production with real values and no failpoint', () => {
    expect(loadConfig(ModuleServiceConfig, production)).toMatchObject({ NODE_ENV: 'production', CLINISYNC_FAILPOINT: undefined });
  });

  it('keeps dev defaults and allows the failpoint outside production', () => {
    expect(loadConfig(ModuleServiceConfig, { NODE_ENV: 'test', CLINISYNC_FAILPOINT: 'after-commit-before-reply' })).toMatchObject({
      CLINISYNC_FAILPOINT: 'after-commit-before-reply',
      AUTH_ISSUER: 'clinisync-dev',
    });
  });

  it("takes its internal body limit from sync-ingest's BODY_LIMIT_BYTES (same variable, same default)", () => {
    expect(loadConfig(ModuleServiceConfig, {}).BODY_LIMIT_BYTES).toBe(loadConfig(CommonConfig, {}).BODY_LIMIT_BYTES);
    expect(loadConfig(ModuleServiceConfig, {}).BODY_LIMIT_BYTES).toBe(2 * 1024 * 1024);
    expect(loadConfig(ModuleServiceConfig, { BODY_LIMIT_BYTES: '1048576' }).BODY_LIMIT_BYTES).toBe(1_048_576);
  });
});
