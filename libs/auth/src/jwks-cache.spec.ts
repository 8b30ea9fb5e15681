import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JWK } from 'jose';
import { AuthError } from './auth.errors';
import { DevIssuerKeys, DevTokenClaims, ensureDevIssuerKeys, signDevToken } from './dev-issuer';
import { DEFAULT_CLOCK_TOLERANCE_S, JwtVerifier, jwtVerifierFromEnv } from './jwt-verifier';

// Real: jose's remote JWKS over HTTP from a local server, two dev key pairs in temp dirs.
let dirs: string[] = [];
let keysA: DevIssuerKeys;
let keysB: DevIssuerKeys;
let server: Server;
let jwksUrl: string;
let published: JWK[] = [];
let fetches = 0;

const ISSUER = 'https://idp.test/realms/clinisync';
const AUDIENCE = 'clinisync';
const claims = (overrides: Partial<DevTokenClaims> = {}): DevTokenClaims => ({
  sub: 'u1',
  tenantId: 't1',
  roles: ['nurse'],
  facilities: ['f-1'],
  issuer: ISSUER,
  audience: AUDIENCE,
  ...overrides,
});
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Resolves once `attempt` rejects (polled), with the rejection; fails after `timeoutMs`. */
async function rejectionOf(attempt: () => Promise<unknown>, timeoutMs = 15_000): Promise<unknown> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error !== undefined) return error;
    if (Date.now() > until) throw new Error('still accepted');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dirs = [await mkdtemp(join(tmpdir(), 'clinisync-jwks-a-')), await mkdtemp(join(tmpdir(), 'clinisync-jwks-b-'))];
  [keysA, keysB] = await Promise.all(dirs.map((d) => ensureDevIssuerKeys(d)));
  server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

beforeEach(() => {
  published = [keysA.publicJwk, keysB.publicJwk];
  fetches = 0;
});

describe('JwtVerifier remote JWKS cache (revoked keys)', () => {
  it('stops verifying tokens of a key removed from the JWKS once the cache lifetime has passed', async () => {
    const verifier = await JwtVerifier.create({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, jwksCacheMs: 300, tokenCache: { ttlMs: 300, maxTokens: 100 } });
    const revoked = await signDevToken(keysA, claims());
    const kept = await signDevToken(keysB, claims({ sub: 'u2' }));
    await expect(verifier.verify(revoked)).resolves.toMatchObject({ sub: 'u1' });
    await expect(verifier.verify(kept)).resolves.toMatchObject({ sub: 'u2' });

    published = [keysB.publicJwk]; // key A revoked at the IdP
    const error = await rejectionOf(() => verifier.verify(revoked));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toMatch(/no applicable key/);
    // A token signed after the revocation by the same key is refused too; the other key still works.
    await expect(verifier.verify(await signDevToken(keysA, claims({ sub: 'u3' })))).rejects.toBeInstanceOf(AuthError);
    await expect(verifier.verify(kept)).resolves.toMatchObject({ sub: 'u2' });
    expect(fetches).toBeGreaterThanOrEqual(2);
  });

  it('keeps using the fetched JWKS within its lifetime (no fetch per token)', async () => {
    const verifier = await JwtVerifier.create({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, jwksCacheMs: 600_000, tokenCache: { ttlMs: 0, maxTokens: 0 } });
    const tokens = await Promise.all(['u1', 'u2', 'u3'].map((sub) => signDevToken(keysA, claims({ sub }))));
    for (const token of tokens) await verifier.verify(token);
    published = [keysB.publicJwk];
    await expect(verifier.verify(tokens[0])).resolves.toMatchObject({ sub: 'u1' });
    expect(fetches).toBe(1);
  });

  it('takes the lifetimes and the clock tolerance from the environment', async () => {
    const verifier = await jwtVerifierFromEnv({
      AUTH_JWKS_URL: jwksUrl,
      AUTH_DEV_ISSUER_DIR: '/nonexistent',
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      JWT_CLOCK_TOLERANCE_S: 0,
      AUTH_JWKS_CACHE_MS: 300,
      AUTH_TOKEN_CACHE_MS: 0,
    });
    const revoked = await signDevToken(keysA, claims());
    await verifier.verify(revoked);
    published = [keysB.publicJwk];
    await expect(rejectionOf(() => verifier.verify(revoked))).resolves.toBeInstanceOf(AuthError);
    const justExpired = await signDevToken(keysB, claims({ expiresIn: nowSeconds() - 5 }));
    await expect(verifier.verify(justExpired)).rejects.toThrow(/"exp"/);
  });
});

describe('JwtVerifier clock tolerance', () => {
  const config = { issuer: ISSUER, audience: AUDIENCE };

  it(`accepts a token expired less than the tolerance ago (default ${DEFAULT_CLOCK_TOLERANCE_S} s) and refuses one expired longer ago`, async () => {
    const verifier = JwtVerifier.fromJwks({ keys: [keysA.publicJwk] }, config, { ttlMs: 0, maxTokens: 0 });
    await expect(verifier.verify(await signDevToken(keysA, claims({ expiresIn: nowSeconds() - 10 })))).resolves.toMatchObject({ sub: 'u1' });
    await expect(verifier.verify(await signDevToken(keysA, claims({ expiresIn: nowSeconds() - 60 })))).rejects.toThrow(/"exp"/);
  });

  it('uses the configured tolerance', async () => {
    const strict = JwtVerifier.fromJwks({ keys: [keysA.publicJwk] }, { ...config, clockToleranceS: 0 }, { ttlMs: 0, maxTokens: 0 });
    await expect(strict.verify(await signDevToken(keysA, claims({ expiresIn: nowSeconds() - 10 })))).rejects.toThrow(/"exp"/);
    const lenient = JwtVerifier.fromJwks({ keys: [keysA.publicJwk] }, { ...config, clockToleranceS: 120 }, { ttlMs: 0, maxTokens: 0 });
    await expect(lenient.verify(await signDevToken(keysA, claims({ expiresIn: nowSeconds() - 60 })))).resolves.toMatchObject({ sub: 'u1' });
  });
});
