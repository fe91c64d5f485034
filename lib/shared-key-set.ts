import { createHash, createPublicKey } from 'node:crypto';
import { selectVerificationJWKs } from './key-policy.js';
import { KeySet, type SigningKeyLike } from './key-set.js';
import type { SharedStore } from './store.js';
import { guardStore, readSharedObject } from './store-guard.js';

/** The last good key set of one JWKS URL, as the fleet shares it. */
export interface SharedKeySet {
  /** Stores a freshly fetched set (public keys and fetch time); never waits, never fails. */
  save(set: KeySet): void;
  /**
   * The set another instance fetched last, when it is still within `keepMs` of its fetch.
   * Resolves to `undefined` when there is none or the store fails.
   */
  load(previous: KeySet | undefined): Promise<KeySet | undefined>;
}

/**
 * Shares key sets through a store, so an instance that starts while its key source is down can
 * serve from the fleet's last good set (and no longer than a warm instance would).
 * @param keepMs how long past its fetch a set may be served: `cacheMaxAge + cacheMaxAgeFallback`
 * @param maxEntries most keys read back (the client's `cacheMaxEntries`)
 */
export function createSharedKeySet(store: SharedStore, jwksUri: string, keepMs: number, maxEntries: number): SharedKeySet {
  const shared = guardStore(store);
  const key = `jwks:${createHash('sha256').update(jwksUri).digest('base64url')}`;

  return {
    save(set) {
      const ttlMs = set.fetchedAtMs + keepMs - Date.now();
      if (ttlMs < 1) return;
      shared.set(key, JSON.stringify({ jwksUri, fetchedAtMs: set.fetchedAtMs, keys: set.toJWKs() }), ttlMs).catch(() => undefined);
    },
    async load(previous) {
      const document = await readSharedObject(shared, key);
      if (document?.jwksUri !== jwksUri || !Array.isArray(document.keys)) return undefined;
      const { fetchedAtMs } = document;
      if (typeof fetchedAtMs !== 'number' || fetchedAtMs > Date.now() || Date.now() - fetchedAtMs >= keepMs) return undefined;
      // The same key policy as a fetched JWKS: what a store holds is not trusted more.
      const signingKeys = selectVerificationJWKs(document.keys, maxEntries).flatMap(toSigningKey);
      return KeySet.build(signingKeys, previous, fetchedAtMs);
    },
  };
}

function toSigningKey(jwk: Record<string, unknown>): SigningKeyLike[] {
  try {
    const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    return [{ kid: jwk.kid as string | undefined, alg: jwk.alg as string | undefined, getPublicKey: () => pem }];
  } catch {
    return [];
  }
}
