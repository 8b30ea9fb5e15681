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
}

const ALGORITHMS = ['RS256', 'EdDSA'];

/** Verifies bearer tokens with jose (signature, alg allow-list, iss, aud, exp) and yields a principal. */
export class JwtVerifier {
  private constructor(
    private readonly key: JWTVerifyGetKey | KeyLike,
    private readonly config: AuthConfig,
  ) {}

  static async create(config: AuthConfig): Promise<JwtVerifier> {
    if (config.jwksUrl) return new JwtVerifier(createRemoteJWKSet(new URL(config.jwksUrl)), config);
    if (config.publicKeyFile) {
      const pem = readFileSync(config.publicKeyFile, 'utf8');
      return new JwtVerifier(await importSPKI(pem, 'RS256'), config);
    }
    if (config.devIssuerDir) {
      const keys = await ensureDevIssuerKeys(config.devIssuerDir);
      return new JwtVerifier(createLocalJWKSet({ keys: [keys.publicJwk as JWK] }), config);
    }
    throw new Error('auth: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY_FILE or AUTH_DEV_ISSUER_DIR');
  }

  static fromJwks(jwks: { keys: JWK[] }, config: Omit<AuthConfig, 'jwksUrl' | 'publicKeyFile' | 'devIssuerDir'>): JwtVerifier {
    return new JwtVerifier(createLocalJWKSet(jwks), config);
  }

  async verify(token: string): Promise<Principal> {
    try {
      const options = { issuer: this.config.issuer, audience: this.config.audience, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] };
      const { payload } =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options);
      return principalFromClaims(payload as Record<string, unknown>);
    } catch (e) {
      if (e instanceof AuthError) throw e;
      throw new AuthError(e instanceof Error ? e.message : 'invalid token');
    }
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
}

/** A verifier from a service's validated environment (JWKS, else PEM, else the dev issuer). */
export function jwtVerifierFromEnv(env: AuthEnv): Promise<JwtVerifier> {
  return JwtVerifier.create({
    jwksUrl: env.AUTH_JWKS_URL,
    publicKeyFile: env.AUTH_PUBLIC_KEY_FILE,
    devIssuerDir: env.AUTH_DEV_ISSUER_DIR,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
  });
}
