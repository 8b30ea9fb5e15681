import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { JWK, KeyLike, SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, calculateJwkThumbprint } from 'jose';

export const DEV_ISSUER = 'clinisync-dev';
export const DEFAULT_AUDIENCE = 'clinisync';
const ALG = 'RS256';

export interface DevIssuerKeys {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
  publicPem: string;
}

function paths(dir: string) {
  return { priv: join(dir, 'private.pem'), pub: join(dir, 'public.pem'), jwks: join(dir, 'jwks.json') };
}

/**
 * The development issuer's key pair, created on first use under `dir` (default `.data/dev-issuer`).
 * Creation uses exclusive writes so two processes starting together end up with one key.
 */
export async function ensureDevIssuerKeys(dir: string): Promise<DevIssuerKeys> {
  const p = paths(dir);
  if (!existsSync(p.jwks)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    try {
      writeFileSync(p.priv, await exportPKCS8(privateKey), { flag: 'wx', mode: 0o600 });
      writeFileSync(p.pub, await exportSPKI(publicKey), { flag: 'w' });
      writeFileSync(p.jwks, JSON.stringify({ keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] }, null, 2), { flag: 'w' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await waitFor(() => existsSync(p.jwks));
    }
  }
  return loadDevIssuerKeys(dir);
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

export async function loadDevIssuerKeys(dir: string): Promise<DevIssuerKeys> {
  const p = paths(dir);
  const jwks = JSON.parse(readFileSync(p.jwks, 'utf8')) as { keys: (JWK & { kid: string })[] };
  const publicJwk = jwks.keys[0];
  return {
    kid: publicJwk.kid,
    privateKey: await importPKCS8(readFileSync(p.priv, 'utf8'), ALG),
    publicJwk,
    publicPem: readFileSync(p.pub, 'utf8'),
  };
}

export interface DevTokenClaims {
  sub: string;
  tenantId: string;
  roles: string[];
  facilities: string[];
  licences?: string[];
  expiresIn?: string | number;
  audience?: string;
  issuer?: string;
}

export async function signDevToken(keys: DevIssuerKeys, claims: DevTokenClaims): Promise<string> {
  const payload: Record<string, unknown> = { tid: claims.tenantId, roles: claims.roles, facilities: claims.facilities };
  if (claims.licences && claims.licences.length > 0) payload.lic = claims.licences;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALG, kid: keys.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer ?? DEV_ISSUER)
    .setAudience(claims.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h')
    .sign(keys.privateKey);
}
