import { readFileSync } from 'node:fs';
import { JWTVerifyGetKey, JWK, createLocalJWKSet, createRemoteJWKSet, importSPKI, jwtVerify, KeyLike } from 'jose';
import { AuthError } from './auth.errors';
import { Principal, principalFromClaims } from './principal';
import { ensureDevIssuerKeys } from './dev-issuer';

export interface AuthConfig {
  /** Remote JWKS of the IdP (prod, e.g. Keycloak). */
  jwksUrl?: string;
  /** PEM public key file (SPKI) as an alternative to a JWKS. */
  publicKeyFile?: string;
  /** Dev issuer directory whose jwks.json is trusted when no JWKS/PEM is configured. */
  devIssuerDir?: string;
  issuer: string;
  audience: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat` (default DEFAULT_CLOCK_TOLERANCE_S). */
  clockToleranceS?: number;
  /** How long a JWKS fetched from `jwksUrl` is trusted before it is fetched again (default DEFAULT_JWKS_CACHE_MS). */
  jwksCacheMs?: number;
  /** Verified-token cache (default DEFAULT_VERIFIED_TOKEN_CACHE). */
  tokenCache?: VerifiedTokenCache;
}

/** Clock skew between the IdP, the devices' tokens and this host that is still accepted. */
export const DEFAULT_CLOCK_TOLERANCE_S = 30;

/**
 * Lifetime of a fetched remote JWKS (jose `cacheMaxAge`; jose's own default is 10 minutes).
 * After it, the next verification fetches the JWKS again, so a key removed from it stops
 * verifying: within jwksCacheMs + the verified-token cache's ttlMs in all.
 */
export const DEFAULT_JWKS_CACHE_MS = 60_000;

const ALGORITHMS = ['RS256', 'EdDSA'];

/** How long, and for how many tokens, a verified token's principal is remembered. */
export interface VerifiedTokenCache {
  ttlMs: number;
  maxTokens: number;
  now?: () => number;
}

/**
 * A device sends the same token with every push and pull, and sync-ingest forwards it to the
 * module, which verifies it again: a signature check each time (0.1–0.3 ms of CPU). A token
 * verified once is remembered for a minute at most (AUTH_TOKEN_CACHE_MS) and never past its `exp`;
 * with the JWKS lifetime (AUTH_JWKS_CACHE_MS) that bounds how long a key taken out of the JWKS
 * is still accepted: their sum.
 */
export const DEFAULT_VERIFIED_TOKEN_CACHE: VerifiedTokenCache = { ttlMs: 60_000, maxTokens: 10_000 };

/** Verifies bearer tokens with jose (signature, alg allow-list, iss, aud, exp) and yields a principal. */
export class JwtVerifier {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly now: () => number;

  private constructor(
    private readonly key: JWTVerifyGetKey | KeyLike,
    private readonly config: AuthConfig,
    private readonly cache: VerifiedTokenCache = DEFAULT_VERIFIED_TOKEN_CACHE,
  ) {
    this.now = cache.now ?? Date.now;
  }

  static async create(config: AuthConfig): Promise<JwtVerifier> {
    const cache = config.tokenCache;
    if (config.jwksUrl) {
      return new JwtVerifier(createRemoteJWKSet(new URL(config.jwksUrl), { cacheMaxAge: config.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS }), config, cache);
    }
    if (config.publicKeyFile) {
      const pem = readFileSync(config.publicKeyFile, 'utf8');
      return new JwtVerifier(await importSPKI(pem, 'RS256'), config, cache);
    }
    if (config.devIssuerDir) {
      const keys = await ensureDevIssuerKeys(config.devIssuerDir);
      return new JwtVerifier(createLocalJWKSet({ keys: [keys.publicJwk as JWK] }), config, cache);
    }
    throw new Error('auth: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY_FILE or AUTH_DEV_ISSUER_DIR');
  }

  static fromJwks(jwks: { keys: JWK[] }, config: Omit<AuthConfig, 'jwksUrl' | 'publicKeyFile' | 'devIssuerDir'>, cache?: VerifiedTokenCache): JwtVerifier {
    return new JwtVerifier(createLocalJWKSet(jwks), config, cache ?? config.tokenCache);
  }

  async verify(token: string): Promise<Principal> {
    const now = this.now();
    const known = this.verified.get(token);
    if (known) {
      if (now < known.until) return known.principal;
      this.verified.delete(token);
    }
    try {
      const options = {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.config.clockToleranceS ?? DEFAULT_CLOCK_TOLERANCE_S,
      };
      const { payload } =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options);
      const principal = principalFromClaims(payload as Record<string, unknown>);
      this.remember(token, principal, Math.min((payload.exp as number) * 1000, now + this.cache.ttlMs));
      return principal;
    } catch (e) {
      if (e instanceof AuthError) throw e;
      throw new AuthError(e instanceof Error ? e.message : 'invalid token');
    }
  }

  private remember(token: string, principal: Principal, until: number): void {
    if (this.cache.ttlMs <= 0 || this.cache.maxTokens <= 0) return;
    // Oldest first out: a Map iterates in insertion order.
    while (this.verified.size >= this.cache.maxTokens) this.verified.delete(this.verified.keys().next().value as string);
    // Shared by every request with this token from now on: nobody may change it.
    for (const list of [principal.roles, principal.facilities, principal.licences]) Object.freeze(list);
    this.verified.set(token, { principal: Object.freeze(principal), until });
  }
}

/** Extracts the token of an `Authorization: Bearer <jwt>` header. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header ?? '');
  if (!match) throw new AuthError('missing bearer token');
  return match[1];
}

/** The auth settings every service reads from its validated environment. */
export interface AuthEnv {
  AUTH_JWKS_URL?: string;
  AUTH_PUBLIC_KEY_FILE?: string;
  AUTH_DEV_ISSUER_DIR: string;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  JWT_CLOCK_TOLERANCE_S?: number;
  AUTH_JWKS_CACHE_MS?: number;
  AUTH_TOKEN_CACHE_MS?: number;
}

/** A verifier from a service's validated environment (JWKS, else PEM, else the dev issuer). */
export function jwtVerifierFromEnv(env: AuthEnv): Promise<JwtVerifier> {
  return JwtVerifier.create({
    jwksUrl: env.AUTH_JWKS_URL,
    publicKeyFile: env.AUTH_PUBLIC_KEY_FILE,
    devIssuerDir: env.AUTH_DEV_ISSUER_DIR,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    clockToleranceS: env.JWT_CLOCK_TOLERANCE_S,
    jwksCacheMs: env.AUTH_JWKS_CACHE_MS,
    tokenCache: env.AUTH_TOKEN_CACHE_MS === undefined ? undefined : { ...DEFAULT_VERIFIED_TOKEN_CACHE, ttlMs: env.AUTH_TOKEN_CACHE_MS },
  });
}
