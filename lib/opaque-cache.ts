import { createHash } from 'node:crypto';
import { InvalidTokenError } from './errors.js';
import { LruMap } from './internal/lru-map.js';
import type { JWTPayload } from './types.js';

/** What a look-up of an opaque token produced: claims to keep for `ttlMs`. */
export interface OpaqueLookup {
  readonly payload: JWTPayload;
  readonly ttlMs: number;
}

/** Bounds of the cache of introspection / userinfo answers. */
export interface OpaqueCacheOptions {
  readonly maxEntries: number;
  /** How long a rejection (inactive, unknown token) is remembered, in ms; 0 for never. */
  readonly negativeTtlMs: number;
}

type Entry = { readonly payload: JWTPayload; readonly expiresAtMs: number } | { readonly rejection: InvalidTokenError; readonly expiresAtMs: number };

/**
 * Caches what the IdP said about opaque tokens, keyed by the SHA-256 of the full token (never
 * the token itself), and makes concurrent look-ups of one uncached token share one call.
 * Only token verdicts are cached: an outage (KeySourceError) is never remembered.
 */
export interface OpaqueCache {
  /** The cached claims (`cached: true`) or those `load` fetched, shared by concurrent callers. */
  lookup(token: string, nowMs: number, load: () => Promise<OpaqueLookup>): Promise<{ payload: JWTPayload; cached: boolean }>;
  readonly size: number;
}

/** Creates an opaque-token cache. */
export function createOpaqueCache(options: OpaqueCacheOptions): OpaqueCache {
  // Least recently used first out: O(1) however many entries (see lru-map.ts).
  const entries = new LruMap<string, Entry>();
  const inflight = new Map<string, Promise<{ payload: JWTPayload; cached: boolean }>>();

  function remember(key: string, entry: Entry): void {
    if (entry.expiresAtMs <= Date.now() || options.maxEntries === 0) return;
    entries.set(key, entry);
    if (entries.size > options.maxEntries) entries.delete(entries.oldestKey()!);
  }

  return {
    get size() {
      return entries.size;
    },
    lookup(token, nowMs, load) {
      const key = createHash('sha256').update(token).digest('base64url');
      const cached = entries.get(key);
      if (cached !== undefined) {
        if (cached.expiresAtMs > nowMs) {
          return 'payload' in cached ? Promise.resolve({ payload: cached.payload, cached: true }) : Promise.reject(cached.rejection);
        }
        entries.delete(key);
      }
      const pending = inflight.get(key);
      if (pending !== undefined) return pending;
      const call = load().then(
        ({ payload, ttlMs }) => {
          remember(key, { payload, expiresAtMs: Date.now() + ttlMs });
          return { payload, cached: false };
        },
        (err: unknown) => {
          if (err instanceof InvalidTokenError && options.negativeTtlMs > 0) {
            remember(key, { rejection: err, expiresAtMs: Date.now() + options.negativeTtlMs });
          }
          throw err;
        },
      );
      inflight.set(key, call);
      const settle = (): void => {
        inflight.delete(key);
      };
      call.then(settle, settle);
      return call;
    },
  };
}
