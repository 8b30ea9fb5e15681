import { auditConfig } from './config';
import { aProductionEnv } from '../../../test/support/builders';

const production = aProductionEnv('audit');

describe('audit configuration', () => {
  it('refuses to start in production with the dev defaults, naming each variable', () => {
    let message = '';
    try {
      auditConfig({ NODE_ENV: 'production' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('\n').slice(1).map((l) => l.trim().split(':')[0])).toEqual(['DATABASE_URL', 'DATABASE_APP_PASSWORD', 'DATABASE_RELAY_PASSWORD', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'NATS_USER']);
  });

  it('starts in production with real values, and in development with its defaults', () => {
    expect(auditConfig(production).PORT).toBe(3200);
    expect(auditConfig({ NODE_ENV: 'development' })).toMatchObject({ AUTH_ISSUER: 'clinisync-dev', PORT: 3200 });
  });

  it('creates AUDIT with AUDIT_STREAM_REPLICAS when set, else with NATS_STREAM_REPLICAS', () => {
    expect(auditConfig({})).toMatchObject({ AUDIT_STREAM_REPLICAS: undefined, NATS_STREAM_REPLICAS: 1 });
    expect(auditConfig({ NATS_STREAM_REPLICAS: '3' })).toMatchObject({ AUDIT_STREAM_REPLICAS: undefined, NATS_STREAM_REPLICAS: 3 });
    expect(auditConfig({ AUDIT_STREAM_REPLICAS: '5' }).AUDIT_STREAM_REPLICAS).toBe(5);
    expect(() => auditConfig({ AUDIT_STREAM_REPLICAS: '0' })).toThrow(/AUDIT_STREAM_REPLICAS/);
  });
});
