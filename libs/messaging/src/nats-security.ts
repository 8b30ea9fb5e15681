import { readFileSync } from 'node:fs';
import { ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from 'nats';

/**
 * How a service authenticates to NATS and checks the server's certificate (the `NATS_*` settings
 * of CommonConfig, already validated). No credential set means an anonymous connection: the
 * local `nats-server -js` of `npm start` and the tests. Production refuses that (production.ts).
 */
export interface NatsSecuritySettings {
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  /** A `.creds` file (user JWT + nkey seed) of a decentralised-auth (operator) deployment. */
  NATS_CREDS_FILE?: string;
  /** A file holding the user's nkey seed (`SU...`); the server config lists its public key. */
  NATS_NKEY_SEED_FILE?: string;
  /** CA bundle that signs the servers' certificates; setting it turns TLS on. */
  NATS_TLS_CA_FILE?: string;
  /** Client certificate and key, for servers that verify clients (`verify: true`). */
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

const isSet = (v: string | undefined): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * nats.js connection options for `settings`: user/password, a creds file or an nkey seed file,
 * and TLS when a CA or client certificate is given. Files are read here, once, at connect time.
 * Pass the result to `NatsLink.connect` and to the Nest NATS transports alike.
 */
export function natsSecurityOptions(settings: NatsSecuritySettings): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (isSet(settings.NATS_CREDS_FILE)) {
    options.authenticator = credsAuthenticator(readFileSync(settings.NATS_CREDS_FILE));
  } else if (isSet(settings.NATS_NKEY_SEED_FILE)) {
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(settings.NATS_NKEY_SEED_FILE, 'utf8').trim()));
  } else if (isSet(settings.NATS_USER)) {
    options.user = settings.NATS_USER;
    options.pass = settings.NATS_PASSWORD ?? '';
  }
  if (isSet(settings.NATS_TLS_CA_FILE) || isSet(settings.NATS_TLS_CERT_FILE)) {
    options.tls = {
      ...(isSet(settings.NATS_TLS_CA_FILE) ? { caFile: settings.NATS_TLS_CA_FILE } : {}),
      ...(isSet(settings.NATS_TLS_CERT_FILE) && isSet(settings.NATS_TLS_KEY_FILE) ? { certFile: settings.NATS_TLS_CERT_FILE, keyFile: settings.NATS_TLS_KEY_FILE } : {}),
    };
  }
  return options;
}
