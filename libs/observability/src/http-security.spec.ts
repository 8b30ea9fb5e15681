import { DEV_CORS_ORIGIN, corsOrigins } from './http-security';

describe('corsOrigins (CORS_ORIGINS)', () => {
  it('allows none by default in production', () => {
    expect(corsOrigins({ NODE_ENV: 'production' })).toEqual([]);
  });

  it.each(['development', 'test'] as const)('allows the localhost dev origins by default in %s', (nodeEnv) => {
    expect(corsOrigins({ NODE_ENV: nodeEnv })).toEqual([DEV_CORS_ORIGIN]);
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'https://localhost', 'http://[::1]:4200']) expect(DEV_CORS_ORIGIN.test(origin)).toBe(true);
    for (const origin of ['http://localhost.evil.org', 'http://evil.org', 'http://localhost:5173/x', 'null']) expect(DEV_CORS_ORIGIN.test(origin)).toBe(false);
  });

  it('allows exactly the listed origins when CORS_ORIGINS is set', () => {
    expect(corsOrigins({ NODE_ENV: 'production', CORS_ORIGINS: 'https://clinic.example.org, https://audit.example.org' })).toEqual([
      'https://clinic.example.org',
      'https://audit.example.org',
    ]);
  });

  it.each(['*', 'https://a.example.org,*', 'clinic.example.org', 'https://clinic.example.org/', 'https://clinic.example.org/app'])('refuses CORS_ORIGINS=%p', (value) => {
    expect(() => corsOrigins({ NODE_ENV: 'production', CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
  });
});
