import { createCachedKeySource } from './jwks-cache.js';
import { registryKey, resolveJWKSClientOptions, type JWKSClientOptions } from './jwks-options.js';
import type { VerificationKey } from './key-set.js';

export type { JWKSClientOptions } from './jwks-options.js';
export type { VerificationKey } from './key-set.js';

/** A cached, shared source of verification keys for one JWKS URL. */
export interface JWKSClient {
  /** The JWKS URL, normalised. */
  readonly jwksUri: string;
  /**
   * Synchronous, never waits: the candidate keys for a token header from the cached set, fresh or
   * stale (see getKeys; a stale answer starts the background refresh); `undefined` when the caller
   * must await getKeys (cold, expired past `cacheMaxAgeFallback`, or kid not in the set).
   */
  peekKeys(kid: string | undefined, alg: string): readonly VerificationKey[] | undefined;
  /**
   * Candidates for the header, fetching when needed; never empty. A set past `cacheMaxAge` that
   * holds the kid answers at once while one refresh runs without the caller (stale-while-revalidate);
   * a kid it lacks waits for the refetch. Throws InvalidTokenError('key_not_found', …) or KeySourceError (503 with retryAfterSec).
   */
  getKeys(kid: string | undefined, alg: string): Promise<readonly VerificationKey[]>;
  /**
   * True while this exact VerificationKey object is in the current set (the verified-token cache uses it: an entry dies when its key leaves the set).
   * An expired set counts only while it is being served: with its refresh in flight, or within the
   * retry window of that refresh's failure. Otherwise a busy token cache would keep trusting a key
   * without the set ever being refreshed: its entries die, and the first token verified again starts the refresh.
   */
  hasKey(key: VerificationKey): boolean;
  /**
   * After a token's signature failed with every key in `tried` (what `peekKeys`/`getKeys` gave
   * for its header): the keys of a refetched set when that brings one not in `tried` — the IdP
   * replaced the key under the same `kid`, or its only key for a token without one, which an
   * unknown-kid refetch never notices. `undefined` at once, with nothing fetched, when the set was
   * fetched less than `cooldown` ago, or a token-triggered refetch (this or an unknown kid's) ran
   * within the last `cooldown`, or a failure holds fetches off: a flood of forged signatures costs
   * at most one fetch per cooldown, shared with forged kids.
   */
  keysAfterFailedSignature(kid: string | undefined, alg: string, tried: readonly VerificationKey[]): Promise<readonly VerificationKey[] | undefined> | undefined;
  /** Loads the set now (warm-up / readiness); rejects with KeySourceError when it cannot. Resolves while a stale set is served through an outage. */
  ready(): Promise<void>;
}

const clients = new Map<string, JWKSClient>();
/** Every client `createJWKSClient` made: `jwksClient` takes these only (see isJWKSClient). */
const made = new WeakSet<object>();

/**
 * The key source for one JWKS URL, built on jwks-rsa's `JwksClient` (which filters `use`,
 * imports with jose and drops private keys) behind bearer-guard's hardened fetch and key policy.
 * The whole set is cached for `cacheMaxAge`; an unknown `kid` refetches at most once per
 * `cooldown`; fetches are single-flight. Past `cacheMaxAge` the last good set is served for
 * `cacheMaxAgeFallback` more (stale-while-revalidate, as RFC 5861 §3 does for HTTP caches): a
 * known `kid` is answered at once while one refresh runs in the background, and through an outage
 * that refresh is retried once per `cooldown`. No timers: refreshes happen lazily, on demand.
 * With a `store`, each fetched set is shared with the fleet, and a failed fetch falls back to the
 * fleet's newer set (an instance starting during an outage then has keys), within the same bounds.
 * Equal options (same URL) return the same client, so every middleware of a process shares it.
 * Clients live for the life of the process, one per distinct URL and settings: an app that
 * creates verifiers per tenant should create them once per tenant and reuse them.
 * @throws ConfigError for a bad option, at creation
 * @example
 * const keys = createJWKSClient({ jwksUri: 'https://idp.example/.well-known/jwks.json' });
 * await keys.ready(); // optional warm-up
 */
export function createJWKSClient(options: JWKSClientOptions): JWKSClient {
  const resolved = resolveJWKSClientOptions(options);
  const key = registryKey(resolved);
  let client = clients.get(key);
  if (client === undefined) {
    client = createCachedKeySource(resolved);
    clients.set(key, client);
    made.add(client);
  }
  return client;
}

/**
 * Whether `value` is a client `createJWKSClient` made. The `jwksClient` option takes nothing else:
 * a look-alike object would skip the hardened fetch and the key policy, and a wrong value (a URL
 * string, say) would otherwise pass startup and fail every request.
 */
export function isJWKSClient(value: unknown): value is JWKSClient {
  return typeof value === 'object' && value !== null && made.has(value);
}
