import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsSecurityOptions } from './nats-security';

describe('natsSecurityOptions (NATS_* settings to nats.js connection options)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clinisync-nats-security-'));
    writeFileSync(join(dir, 'seed'), 'SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY\n');
    writeFileSync(join(dir, 'creds'), 'not parsed before connecting');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds nothing without settings: an anonymous, plain connection (local nats-server)', () => {
    expect(natsSecurityOptions({})).toEqual({});
  });

  it('passes user and password', () => {
    expect(natsSecurityOptions({ NATS_USER: 'audit', NATS_PASSWORD: 'pw' })).toEqual({ user: 'audit', pass: 'pw' });
  });

  it('authenticates with a creds file or an nkey seed file instead of a password', () => {
    const creds = natsSecurityOptions({ NATS_CREDS_FILE: join(dir, 'creds') });
    const nkey = natsSecurityOptions({ NATS_NKEY_SEED_FILE: join(dir, 'seed') });
    for (const options of [creds, nkey]) {
      expect(typeof options.authenticator).toBe('function');
      expect(options.user).toBeUndefined();
    }
  });

  it('turns TLS on with a CA, and adds a client certificate only with its key', () => {
    expect(natsSecurityOptions({ NATS_TLS_CA_FILE: '/ca.pem' })).toEqual({ tls: { caFile: '/ca.pem' } });
    expect(natsSecurityOptions({ NATS_TLS_CA_FILE: '/ca.pem', NATS_TLS_CERT_FILE: '/c.pem', NATS_TLS_KEY_FILE: '/k.pem' })).toEqual({
      tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' },
    });
    expect(natsSecurityOptions({ NATS_USER: 'audit', NATS_PASSWORD: 'pw', NATS_TLS_CA_FILE: ' ' })).toEqual({ user: 'audit', pass: 'pw' });
  });
});
