import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { makeToken } from './token';

describe('npm run token (dev token issuer)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clinisync-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const argv = ['--tenant', 't1', '--sub', 'u1', '--roles', 'nurse', '--facilities', 'f-1'];

  it('signs a dev token in development', async () => {
    const token = await makeToken(argv, { NODE_ENV: 'development', AUTH_DEV_ISSUER_DIR: dir });
    expect(decodeJwt(token)).toMatchObject({ sub: 'u1', tid: 't1', iss: 'clinisync-dev', roles: ['nurse'] });
  });

  it('is refused with NODE_ENV=production, before any key is created', async () => {
    const prodDir = join(dir, 'prod');
    await expect(makeToken(argv, { NODE_ENV: 'production', AUTH_DEV_ISSUER_DIR: prodDir })).rejects.toThrow(/NODE_ENV=production/);
    expect(existsSync(prodDir)).toBe(false);
  });
});
