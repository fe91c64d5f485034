import { createHash } from 'node:crypto';
import { isPlainObject } from './internal/safe-json.js';
import type { SharedStore } from './store.js';
import { guardStore, readSharedObject } from './store-guard.js';

/**
 * How long the fleet keeps an issuer's metadata after an instance last discovered it (7 days).
 * Instances discover once, when they start, so this must outlast the gaps between starts; what it
 * bounds is only where the keys are found: the key set itself has its own, shorter bound.
 */
const SHARED_METADATA_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

/** What an instance may use of the metadata another instance shared. */
export interface MetadataCopy {
  /** The stored document, to be checked again exactly as a fetched one; only `issuer` and `jwks_uri` when `keysOnly`. */
  readonly document: Record<string, unknown>;
  /**
   * True when the store does not sign its values: the introspection and userinfo endpoints were
   * left out, since whoever planted them would receive the API's client secret and its callers'
   * tokens, and keep them after losing write access to the store.
   */
  readonly keysOnly: boolean;
}

/** The metadata document of one issuer URL, as the fleet shares it. */
export interface SharedMetadata {
  /** Stores the members bearer-guard reads of a document that passed its checks; never waits, never fails. */
  save(document: Readonly<Record<string, unknown>>): void;
  /** The copy another instance stored for this metadata URL; `undefined` when there is none or the store fails. */
  load(): Promise<MetadataCopy | undefined>;
}

/**
 * Shares issuer metadata through a store, so an instance that starts while the issuer's metadata
 * endpoint is down can still find its `jwks_uri` (and so the fleet's key set) instead of
 * answering 503.
 * @param url the metadata URL the document was (or would be) fetched from
 */
export function createSharedMetadata(store: SharedStore, url: string): SharedMetadata {
  const shared = guardStore(store);
  const key = `metadata:${createHash('sha256').update(url).digest('base64url')}`;

  return {
    save(document) {
      shared.set(key, JSON.stringify({ url, document }), SHARED_METADATA_KEEP_MS).catch(() => undefined);
    },
    async load() {
      const entry = await readSharedObject(shared, key);
      if (entry?.url !== url || !isPlainObject(entry.document)) return undefined;
      // Keys from an unsigned copy are the trust the store's documentation states (a planted key
      // set is accepted just the same); a client secret is not: it outlives the write access.
      if (shared.signsValues === true) return { document: entry.document, keysOnly: false };
      return { document: { issuer: entry.document.issuer, jwks_uri: entry.document.jwks_uri }, keysOnly: true };
    },
  };
}
