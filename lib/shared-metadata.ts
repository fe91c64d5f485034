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

/** The metadata document of one issuer URL, as the fleet shares it. */
export interface SharedMetadata {
  /** Stores the members bearer-guard reads of a document that passed its checks; never waits, never fails. */
  save(document: Readonly<Record<string, unknown>>): void;
  /**
   * The document another instance stored for this metadata URL, to be checked again exactly as a
   * fetched one; `undefined` when there is none or the store fails.
   */
  load(): Promise<Record<string, unknown> | undefined>;
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
      return entry.document;
    },
  };
}
