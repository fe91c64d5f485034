import { InvalidTokenError, KeySourceError } from './errors.js';
import { registryKey, resolveJWKSClientOptions, type JWKSClientOptions, type ResolvedJWKSClientOptions } from './jwks-options.js';
import type { KeySet, VerificationKey } from './key-set.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { createKeySetLoader } from './load-key-set.js';
import { createSharedKeySet } from './shared-key-set.js';

export type { JWKSClientOptions } from './jwks-options.js';
export type { VerificationKey } from './key-set.js';

/** A cached, shared source of verification keys for one JWKS URL. */
export interface JWKSClient {
  /** The JWKS URL, normalised. */
  readonly jwksUri: string;
  /** Synchronous, no I/O: the candidate keys for a token header from a fresh cached set; `undefined` when the caller must await getKeys (cold, expired, or kid not in the set). */
  peekKeys(kid: string | undefined, alg: string): readonly VerificationKey[] | undefined;
  /** Candidates for the header, fetching when needed; never empty. Throws InvalidTokenError('key_not_found', …) or KeySourceError (503 with retryAfterSec). */
  getKeys(kid: string | undefined, alg: string): Promise<readonly VerificationKey[]>;
  /**
   * True while this exact VerificationKey object is in the current set (the verified-token cache uses it: an entry dies when its key leaves the set).
   * An expired set counts only while it is being served through an outage: otherwise a busy
   * token cache would keep trusting a key without the set ever being refreshed.
   */
  hasKey(key: VerificationKey): boolean;
  /** Loads the set now (warm-up / readiness); rejects with KeySourceError when it cannot. Resolves while a stale set is served through an outage. */
  ready(): Promise<void>;
}

const clients = new Map<string, JWKSClient>();

/**
 * The key source for one JWKS URL, built on jwks-rsa's `JwksClient` (which filters `use`,
 * imports with jose and drops private keys) behind bearer-guard's hardened fetch and key policy.
 * The whole set is cached for `cacheMaxAge`; an unknown `kid` refetches at most once per
 * `cooldown`; fetches are single-flight; through an outage the last good set is served for
 * `cacheMaxAgeFallback` more. No timers: refreshes happen lazily, on demand.
 * With a `store`, each fetched set is shared with the fleet, and a failed fetch falls back to the
 * fleet's newer set (an instance starting during an outage then has keys), within the same bounds.
 * Equal options (same URL) return the same client, so every middleware of a process shares it.
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
    client = newJWKSClient(resolved);
    clients.set(key, client);
  }
  return client;
}

function newJWKSClient(options: ResolvedJWKSClientOptions): JWKSClient {
  const jwksUri = options.jwksUri.href;
  const loadKeySet = createKeySetLoader(options);
  const fleet = options.store && createSharedKeySet(options.store, jwksUri, options.cacheMaxAge + options.cacheMaxAgeFallback, options.cacheMaxEntries);
  let set: KeySet | undefined;
  let inflight: Promise<KeySet> | undefined;
  /** When the last refetch for an unknown `kid` started: those are limited to one per cooldown. */
  let kidRefetchAtMs = -Infinity;
  /** Why the last fetch failed, and when; `undefined` once one succeeds. */
  let lastFailure: unknown;
  let failedAtMs = -Infinity;

  function refresh(): Promise<KeySet> {
    if (inflight !== undefined) return inflight;
    const run = loadKeySet(set).then(
      (loaded) => {
        set = loaded;
        lastFailure = undefined;
        fleet?.save(loaded);
        return loaded;
      },
      async (err: unknown) => {
        lastFailure = err;
        failedAtMs = Date.now();
        // A set another instance fetched later than ours is served under the same bounds as ours.
        const shared = await fleet?.load(set);
        if (shared !== undefined && (set === undefined || shared.fetchedAtMs > set.fetchedAtMs)) set = shared;
        throw err;
      },
    );
    const settle = (): void => {
      inflight = undefined;
    };
    run.then(settle, settle);
    inflight = run;
    return run;
  }

  /**
   * Fetches if allowed now, joining a fetch in flight; `undefined` when not allowed or failed.
   * Within `cooldown` of a failure nothing is fetched (callers fail fast, the endpoint is spared),
   * nor within `cooldown` of the last refetch for an unknown `kid` (forged kids cannot storm it).
   */
  async function tryRefresh(nowMs: number, forUnknownKid: boolean): Promise<KeySet | undefined> {
    if (inflight === undefined) {
      if (lastFailure !== undefined && nowMs - failedAtMs < retryWindowMs()) return undefined;
      if (forUnknownKid && nowMs - kidRefetchAtMs < options.cooldown) return undefined;
      if (forUnknownKid) kidRefetchAtMs = nowMs;
    }
    return refresh().catch(() => undefined);
  }

  function freshSet(nowMs: number): KeySet | undefined {
    return set !== undefined && nowMs - set.fetchedAtMs < options.cacheMaxAge ? set : undefined;
  }

  /** The set getKeys would answer from without fetching: fresh, or stale while the endpoint fails. */
  function usableSet(nowMs: number): KeySet | undefined {
    if (set === undefined) return undefined;
    const ageMs = nowMs - set.fetchedAtMs;
    if (ageMs < options.cacheMaxAge) return set;
    return lastFailure !== undefined && ageMs < options.cacheMaxAge + options.cacheMaxAgeFallback ? set : undefined;
  }

  /** How long after a failure nothing is fetched: the cooldown, or longer when the IdP asked (429/503 Retry-After). */
  function retryWindowMs(): number {
    return honouredRetryWindowMs(lastFailure, options.cooldown);
  }

  function outage(nowMs: number): KeySourceError {
    const retryAfterSec = (failedAtMs + retryWindowMs() - nowMs) / 1000;
    return new KeySourceError('Signing keys are unavailable: the JWKS endpoint failed and no cached key applies', retryAfterSec, { cause: lastFailure });
  }

  function answerFromCache(kid: string | undefined, alg: string, nowMs: number): readonly VerificationKey[] {
    const usable = usableSet(nowMs);
    const found = usable?.candidates(kid, alg) ?? [];
    if (found.length > 0) return found;
    if (usable !== undefined && lastFailure === undefined) throw keyNotFound(kid);
    throw outage(nowMs);
  }

  return Object.freeze({
    jwksUri,
    peekKeys(kid: string | undefined, alg: string) {
      const found = freshSet(Date.now())?.candidates(kid, alg);
      return found !== undefined && found.length > 0 ? found : undefined;
    },
    async getKeys(kid: string | undefined, alg: string) {
      const nowMs = Date.now();
      const fresh = freshSet(nowMs);
      const found = fresh?.candidates(kid, alg);
      if (found !== undefined && found.length > 0) return found;
      const loaded = await tryRefresh(nowMs, fresh !== undefined);
      if (loaded === undefined) return answerFromCache(kid, alg, Date.now());
      const candidates = loaded.candidates(kid, alg);
      if (candidates.length === 0) throw keyNotFound(kid);
      return candidates;
    },
    hasKey: (key: VerificationKey) => usableSet(Date.now())?.has(key) ?? false,
    async ready() {
      const nowMs = Date.now();
      if (freshSet(nowMs) !== undefined) return;
      const loaded = await tryRefresh(nowMs, false);
      if (loaded === undefined && usableSet(Date.now()) === undefined) throw outage(Date.now());
    },
  });
}

function keyNotFound(kid: string | undefined): InvalidTokenError {
  return kid === undefined
    ? new InvalidTokenError('key_not_found', 'Token has no kid and the key set does not hold exactly one key for its alg')
    : new InvalidTokenError('key_not_found', 'No key in the key set matches the token kid and alg');
}
