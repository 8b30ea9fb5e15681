import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { AuthError } from './auth.errors';
import { DevIssuerKeys, DevTokenClaims, ensureDevIssuerKeys, signDevToken } from './dev-issuer';
import { JwtVerifier, bearerToken } from './jwt-verifier';

// Two dev issuers in temp dirs: A is trusted by the verifier, B is a stranger's key pair.
let dirA: string;
let dirB: string;
let keysA: DevIssuerKeys;
let keysB: DevIssuerKeys;
let verifier: JwtVerifier;

beforeAll(async () => {
  dirA = await mkdtemp(join(tmpdir(), 'clinisync-issuer-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'clinisync-issuer-b-'));
  [keysA, keysB] = await Promise.all([ensureDevIssuerKeys(dirA), ensureDevIssuerKeys(dirB)]);
  verifier = await JwtVerifier.create({ devIssuerDir: dirA, issuer: 'clinisync-dev', audience: 'clinisync' });
});

afterAll(async () => {
  await Promise.all([dirA, dirB].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

function claims(overrides: Partial<DevTokenClaims> = {}): DevTokenClaims {
  return {
    sub: 'u1',
    tenantId: 't1',
    roles: ['nurse', 'clinician'],
    facilities: ['f-1', 'f-2'],
    ...overrides,
  };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('JwtVerifier (dev issuer)', () => {
  it('reuses the key pair already in the directory', async () => {
    expect((await ensureDevIssuerKeys(dirA)).kid).toBe(keysA.kid);
    expect(keysB.kid).not.toBe(keysA.kid);
  });

  it('turns a valid token into a principal with tenant, roles, facilities and licences', async () => {
    const token = await signDevToken(keysA, claims({ licences: ['controlled-substances'] }));
    await expect(verifier.verify(token)).resolves.toEqual({
      sub: 'u1',
      tenantId: 't1',
      roles: ['nurse', 'clinician'],
      facilities: ['f-1', 'f-2'],
      licences: ['controlled-substances'],
    });
  });

  it('gives empty licences when the token carries none, and keeps the "*" facility', async () => {
    const token = await signDevToken(keysA, claims({ roles: ['admin'], facilities: ['*'] }));
    await expect(verifier.verify(token)).resolves.toMatchObject({
      roles: ['admin'],
      facilities: ['*'],
      licences: [],
    });
  });

  it('accepts a single licence given as a string claim', async () => {
    const token = await new SignJWT({
      tid: 't1',
      roles: ['pharmacist'],
      facilities: ['f-1'],
      lic: 'controlled-substances',
    })
      .setProtectedHeader({ alg: 'RS256', kid: keysA.kid })
      .setSubject('u1')
      .setIssuer('clinisync-dev')
      .setAudience('clinisync')
      .setExpirationTime('5m')
      .sign(keysA.privateKey);
    await expect(verifier.verify(token)).resolves.toMatchObject({ licences: ['controlled-substances'] });
  });

  it.each<[string, RegExp, () => Promise<string>]>([
    ['an expired token', /"exp"/, () => signDevToken(keysA, claims({ expiresIn: nowSeconds() - 60 }))],
    ['a wrong audience', /"aud"/, () => signDevToken(keysA, claims({ audience: 'someone-else' }))],
    ['a wrong issuer', /"iss"/, () => signDevToken(keysA, claims({ issuer: 'evil-issuer' }))],
    ['a token signed by another key pair', /no applicable key/, () => signDevToken(keysB, claims())],
    [
      'another key pair claiming the trusted kid',
      /signature verification failed/,
      () => signDevToken({ ...keysB, kid: keysA.kid }, claims()),
    ],
    [
      'an unknown role',
      /unknown role.*superuser/,
      () => signDevToken(keysA, claims({ roles: ['nurse', 'superuser'] })),
    ],
    ['a malformed tid (dot)', /tid/, () => signDevToken(keysA, claims({ tenantId: 't1.other' }))],
    ['a malformed tid (space)', /tid/, () => signDevToken(keysA, claims({ tenantId: 't 1' }))],
    ['a malformed tid (empty)', /tid/, () => signDevToken(keysA, claims({ tenantId: '' }))],
    ['a malformed tid (too long)', /tid/, () => signDevToken(keysA, claims({ tenantId: 't'.repeat(65) }))],
    ['an empty sub', /sub/, () => signDevToken(keysA, claims({ sub: '' }))],
    [
      'facilities that are not strings',
      /facilities/,
      () => signDevToken(keysA, claims({ facilities: [1 as unknown as string] })),
    ],
    [
      'an unsigned alg:none token',
      /alg/,
      async () => {
        const payload = {
          sub: 'u1',
          tid: 't1',
          roles: ['admin'],
          facilities: ['*'],
          iss: 'clinisync-dev',
          aud: 'clinisync',
          exp: nowSeconds() + 600,
        };
        return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
      },
    ],
    [
      'a tampered payload under a valid signature',
      /signature verification failed/,
      async () => {
        const [header, , signature] = (await signDevToken(keysA, claims())).split('.');
        const payload = {
          sub: 'u1',
          tid: 't2',
          roles: ['admin'],
          facilities: ['*'],
          iss: 'clinisync-dev',
          aud: 'clinisync',
          exp: nowSeconds() + 600,
        };
        return `${header}.${b64url(payload)}.${signature}`;
      },
    ],
    [
      'HS256 signed with the public key as secret (alg confusion)',
      /alg/,
      () =>
        new SignJWT({ tid: 't1', roles: ['admin'], facilities: ['*'] })
          .setProtectedHeader({ alg: 'HS256', kid: keysA.kid })
          .setSubject('u1')
          .setIssuer('clinisync-dev')
          .setAudience('clinisync')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(keysA.publicPem)),
    ],
    [
      'a token without exp',
      /"exp"/,
      () =>
        new SignJWT({ tid: 't1', roles: ['nurse'], facilities: ['f-1'] })
          .setProtectedHeader({ alg: 'RS256', kid: keysA.kid })
          .setSubject('u1')
          .setIssuer('clinisync-dev')
          .setAudience('clinisync')
          .sign(keysA.privateKey),
    ],
    ['garbage', /Invalid Compact JWS/, async () => 'not-a-jwt'],
    ['an empty string', /Invalid Compact JWS/, async () => ''],
  ])('rejects %s with AuthError (reason %p)', async (_case, reason, makeToken) => {
    const token = await makeToken();
    const error = await verifier.verify(token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toMatch(reason);
  });

  it('is trusted by a verifier built from the published JWKS', async () => {
    const fromJwks = JwtVerifier.fromJwks(
      { keys: [keysA.publicJwk] },
      { issuer: 'clinisync-dev', audience: 'clinisync' },
    );
    await expect(fromJwks.verify(await signDevToken(keysA, claims()))).resolves.toMatchObject({
      tenantId: 't1',
    });
    await expect(fromJwks.verify(await signDevToken(keysB, claims()))).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses to start without any key source', async () => {
    await expect(JwtVerifier.create({ issuer: 'clinisync-dev', audience: 'clinisync' })).rejects.toThrow(
      'AUTH_',
    );
  });
});

describe('bearerToken', () => {
  it.each<[string, string]>([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER   abc.def-_.ghi', 'abc.def-_.ghi'],
  ])('extracts the token from %p', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each<[string, string | undefined]>([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['a scheme without token', 'Bearer'],
    ['a scheme with only spaces', 'Bearer   '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a token without scheme', 'abc.def.ghi'],
    ['two tokens', 'Bearer abc.def.ghi xyz'],
    ['a token with illegal characters', 'Bearer abc.def.ghi;drop'],
  ])('throws AuthError for %s', (_case, header) => {
    expect(() => bearerToken(header)).toThrow(AuthError);
  });
});

describe('JwtVerifier verified-token cache', () => {
  const config = { issuer: 'clinisync-dev', audience: 'clinisync' };
  /** A verifier over issuer A whose cache reads a hand-moved clock. */
  const aVerifier = (cache: { ttlMs?: number; maxTokens?: number } = {}) => {
    const clock = { now: Date.now() };
    const v = JwtVerifier.fromJwks({ keys: [keysA.publicJwk] }, config, { ttlMs: cache.ttlMs ?? 60_000, maxTokens: cache.maxTokens ?? 100, now: () => clock.now });
    return { v, clock };
  };

  it('answers a token it verified with the same principal, frozen, without verifying it again', async () => {
    const { v } = aVerifier();
    const token = await signDevToken(keysA, claims());
    const first = await v.verify(token);
    expect(await v.verify(token)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles) && Object.isFrozen(first.facilities)).toBe(true);
  });

  it('verifies again once the token expires or the cache time passes, whichever comes first', async () => {
    const { v, clock } = aVerifier({ ttlMs: 60_000 });
    const shortLived = await signDevToken(keysA, claims({ expiresIn: nowSeconds() + 30 }));
    const first = await v.verify(shortLived);
    clock.now += 31_000; // past exp for the cache (the real clock, which jose reads, is not)
    expect(await v.verify(shortLived)).not.toBe(first);
    const token = await signDevToken(keysA, claims());
    const a = await v.verify(token);
    clock.now += 61_000;
    expect(await v.verify(token)).not.toBe(a);
  });

  it('remembers at most maxTokens tokens, the oldest leaving first', async () => {
    const { v } = aVerifier({ maxTokens: 2 });
    const tokens = await Promise.all(['u1', 'u2', 'u3'].map((sub) => signDevToken(keysA, claims({ sub }))));
    const [p1, , p3] = [await v.verify(tokens[0]), await v.verify(tokens[1]), await v.verify(tokens[2])];
    expect(await v.verify(tokens[2])).toBe(p3);
    expect(await v.verify(tokens[0])).not.toBe(p1);
  });

  it('never remembers a token it refused', async () => {
    const { v } = aVerifier();
    const stranger = await signDevToken(keysB, claims());
    await expect(v.verify(stranger)).rejects.toBeInstanceOf(AuthError);
    await expect(v.verify(stranger)).rejects.toBeInstanceOf(AuthError);
  });
});
