import { hmac } from '@noble/hashes/hmac';
import { sha1 } from '@noble/hashes/sha1';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * The hash functions of sync-core (payload hash, audit chain, name-based ids, cursor MACs).
 * Strings are hashed as their UTF-8 bytes (a lone surrogate as U+FFFD, as Node and TextEncoder
 * both write it). Every implementation gives the same bytes; `hashing.spec.ts` holds each to
 * node:crypto as the oracle, since the hashes and ids are stored and compared on replay.
 */
export interface Hashing {
  /** SHA-256 of `text`, lower-case hex. */
  sha256Hex(text: string): string;
  /** SHA-1 of the parts one after the other. */
  sha1(...parts: (Uint8Array | string)[]): Uint8Array;
  /** HMAC-SHA-256 of `message` under `key`. */
  hmacSha256(key: string, message: string): Uint8Array;
}

/** Pure JavaScript (@noble/hashes): runs anywhere (browsers, React Native, workers). */
export const nobleHashing: Hashing = {
  sha256Hex: (text) => bytesToHex(sha256(utf8ToBytes(text))),
  sha1: (...parts) => {
    const h = sha1.create();
    for (const p of parts) h.update(typeof p === 'string' ? utf8ToBytes(p) : p);
    return h.digest();
  },
  hmacSha256: (key, message) => hmac(sha256, utf8ToBytes(key), utf8ToBytes(message)),
};

/** The part of node:crypto the Node implementation uses. */
export interface NodeCrypto {
  hash(algorithm: 'sha256', data: string, encoding: 'hex'): string;
  createHash(algorithm: 'sha1'): { update(data: Uint8Array | string): unknown; digest(): Uint8Array };
  createHmac(algorithm: 'sha256', key: string): { update(data: string): unknown; digest(): Uint8Array };
}

/** node:crypto (native): several times faster than @noble on the push path's inputs. */
export function nodeCryptoHashing(crypto: NodeCrypto): Hashing {
  return {
    sha256Hex: (text) => crypto.hash('sha256', text, 'hex'),
    sha1: (...parts) => {
      const h = crypto.createHash('sha1');
      for (const p of parts) h.update(p);
      return h.digest();
    },
    hmacSha256: (key, message) => {
      const h = crypto.createHmac('sha256', key);
      h.update(message);
      return h.digest();
    },
  };
}

/**
 * node:crypto when the runtime is Node, else @noble. The payload hash runs for every pushed
 * mutation, and @noble is about 6x slower there (sha256 of ~300 bytes; sha1 of a ~60-byte name
 * 1.5x), so the services keep the native one. It is reached through `process.getBuiltinModule`
 * (Node >= 20.16; `engines` asks >= 20.19) instead of an import, so sync-core stays free of Node
 * built-ins for the SDK's browser bundle, and no service bootstrap has to remember to wire it.
 */
function defaultHashing(): Hashing {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:crypto') as NodeCrypto | undefined) : undefined;
  return crypto && typeof crypto.hash === 'function' ? nodeCryptoHashing(crypto) : nobleHashing;
}

let current: Hashing = defaultHashing();

/** The implementation in use. */
export function hashing(): Hashing {
  return current;
}

/** Replaces the implementation (tests pin one; a host may force one); returns the previous one. */
export function setHashing(implementation: Hashing): Hashing {
  const previous = current;
  current = implementation;
  return previous;
}
