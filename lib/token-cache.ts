import { checkTimeClaims, type ClaimPolicy } from './claims.js';
import { LruMap } from './internal/lru-map.js';
import type { AuthResult } from './types.js';

/** What the verified-token cache remembers of an accepted token. */
export interface CachedVerification<Key> {
  readonly result: AuthResult;
  /** The key that verified the signature: the entry dies once it leaves the key set. */
  readonly key: Key;
  /** The policy the token was accepted under (its time claims are re-checked on every hit). */
  readonly policy: Pick<ClaimPolicy, 'clockTolerance' | 'maxTokenAge'>;
  /** Whether `key` is still in its issuer's current key set. */
  readonly isKeyCurrent: (key: Key) => boolean;
}

/** Upper bound on the token characters the cache holds, whatever `maxEntries` says (≈ 32 MiB of UTF-16). */
const MAX_CACHED_CHARS = 16 * 1024 * 1024;

/**
 * LRU of tokens this verifier has accepted → their verified result. Keyed by the full token
 * string (never a prefix, never without its signature), so a token whose signature was changed
 * always misses. Only accepted tokens enter; failures are never cached.
 */
export interface TokenCache<Key> {
  /**
   * The cached result, after re-checking the time claims against `nowSec` and that the key is
   * still current; `undefined` on a miss or a dead entry.
   * @throws InvalidTokenError when a cached token has since expired (or is now too old)
   */
  get(token: string, nowSec: number): AuthResult | undefined;
  set(token: string, entry: CachedVerification<Key>): void;
  readonly size: number;
}

/** Creates a verified-token cache; `maxEntries: 0` makes one that stores nothing. */
export function createTokenCache<Key>(maxEntries: number): TokenCache<Key> {
  // Recency order without re-inserting keys on a hit (see lru-map.ts for why that matters).
  const entries = new LruMap<string, CachedVerification<Key>>();
  let cachedChars = 0;

  function remove(token: string): void {
    if (entries.delete(token)) cachedChars -= token.length;
  }

  return {
    get size() {
      return entries.size;
    },
    get(token, nowSec) {
      if (maxEntries === 0) return undefined;
      const entry = entries.get(token); // also marks it as the most recently used
      if (entry === undefined) return undefined;
      if (!entry.isKeyCurrent(entry.key)) {
        remove(token);
        return undefined;
      }
      try {
        checkTimeClaims(entry.result.payload, entry.policy, nowSec);
      } catch (err) {
        remove(token);
        throw err;
      }
      return entry.result;
    },
    set(token, entry) {
      if (maxEntries === 0 || token.length > MAX_CACHED_CHARS) return;
      remove(token);
      entries.set(token, entry);
      cachedChars += token.length;
      while (entries.size > maxEntries || cachedChars > MAX_CACHED_CHARS) {
        remove(entries.oldestKey()!);
      }
    },
  };
}
