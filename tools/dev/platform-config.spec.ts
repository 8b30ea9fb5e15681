import { platformStartConfig } from './platform-config';

describe('npm start configuration (tools/dev/start.ts)', () => {
  it('refuses production with the dev defaults before starting anything, naming every variable', () => {
    let message = '';
    try {
      platformStartConfig({ NODE_ENV: 'production', CLINISYNC_FAILPOINT: 'after-commit-before-reply' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('\n')[0]).toBe('Refusing to start with NODE_ENV=production:');
    expect(message.split('\n').slice(1).map((l) => l.trim().split(':')[0])).toEqual([
      'DATABASE_URL',
      'DATABASE_APP_PASSWORD',
      'DATABASE_RELAY_PASSWORD',
      'CURSOR_SECRET',
      'AUTH_JWKS_URL',
      'AUTH_ISSUER',
      'NATS_USER',
      'CLINISYNC_FAILPOINT',
    ]);
  });

  it('starts production with real values', () => {
    const config = platformStartConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://owner:owner-pw-from-the-secret-store@db.internal:5432/clinisync',
      DATABASE_APP_PASSWORD: 'app-pw-from-the-secret-store',
      DATABASE_RELAY_PASSWORD: 'relay-pw-from-the-secret-store',
      AUTH_PUBLIC_KEY_FILE: '/etc/clinisync/auth/idp.pem',
      AUTH_ISSUER: 'https://idp.example.org/realms/clinisync',
      CURSOR_SECRET: 'q0x8mY2v3nQk7Jp1Zr5Tb9Lw4Hc6Fd8S',
      NATS_USER: 'clinisync',
      NATS_PASSWORD: 'nats-pw-from-the-secret-store',
    });
    expect(config.NODE_ENV).toBe('production');
  });

  it('needs nothing in development', () => {
    expect(platformStartConfig({}).NODE_ENV).toBe('development');
  });
});
