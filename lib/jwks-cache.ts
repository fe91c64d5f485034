import { InvalidTokenError, KeySourceError } from './errors.js';
import type { JWKSClient } from './jwks-client.js';
import type { ResolvedJWKSClientOptions } from './jwks-options.js';
import type { KeySet, VerificationKey } from './key-set.js';
import { elapsedMs } from './internal/elapsed.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { createKeySetLoader } from './load-key-set.js';
import { createSharedKeySet } from './shared-key-set.js';

/**
 * The caching behind one `JWKSClient` (see `createJWKSClient` for the behaviour): the last good
 * set, the fetch in flight, the last failure and the unknown-kid cooldown, and the rules that
 * decide from them whether a request is answered from memory, waits for a fetch, or gets a 503.
 */
export function createCachedKeySource(options: ResolvedJWKSClientOptions): JWKSClient {
  const jwksUri = options.jwksUri.href;
  const loadKeySet = createKeySetLoader(options);
  const fleet = options.store && createSharedKeySet(options.store, jwksUri, options.cacheMaxAge + options.cacheMaxAgeFallback, options.cacheMaxEntries);
  let set: KeySet | undefined;
  /**
   * What the age of `set` counts from: its fetch time, until the wall clock is seen behind that
   * (stepped back: NTP, VM resume). Its true age is then unknown, so it is re-dated to "just
   * expired" (`now - cacheMaxAge`): it is refreshed at once (a rotation is picked up, stale keys
   * answer meanwhile) and outlives a failing endpoint by `cacheMaxAgeFallback` of the clock's
   * forward time from the step, within the `cacheMaxAge + cacheMaxAgeFallback` a fetch allows.
   * Its age only grows from there, so it can neither stay fresh for the size of the step nor come
   * back to life when the clock catches up with its fetch time.
   */
  let setAtMs = 0;
  let inflight: Promise<KeySet> | undefined;
  /** When the last refetch a token caused (an unknown `kid`, a failed signature) started: one per cooldown. */
  let kidRefetchAtMs = -Infinity;
  /** Why the last fetch failed, and when; `undefined` once one succeeds. */
  let lastFailure: unknown;
  let failedAtMs = -Infinity;

  function refresh(): Promise<KeySet> {
    if (inflight !== undefined) return inflight;
    const run = loadKeySet(set).then(
      (loaded) => {
        set = loaded;
        setAtMs = loaded.fetchedAtMs;
        lastFailure = undefined;
        fleet?.save(loaded);
        return loaded;
      },
      async (err: unknown) => {
        lastFailure = err;
        failedAtMs = Date.now();
        // A set another instance fetched later than ours is served under the same bounds as ours.
        const shared = await fleet?.load(set);
        if (shared !== undefined && (set === undefined || shared.fetchedAtMs > setAtMs)) {
          set = shared;
          setAtMs = shared.fetchedAtMs;
        }
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
      if (holdingOff(nowMs)) return undefined;
      if (forUnknownKid && elapsedMs(kidRefetchAtMs, nowMs) < options.cooldown) return undefined;
      if (forUnknownKid) kidRefetchAtMs = nowMs;
    }
    return refresh().catch(() => undefined);
  }

  /** Age of `set` in ms (see `setAtMs`: a set dated after `nowMs` is re-dated to just expired). */
  function setAgeMs(nowMs: number): number {
    if (elapsedMs(setAtMs, nowMs) === Number.POSITIVE_INFINITY) setAtMs = nowMs - options.cacheMaxAge;
    return nowMs - setAtMs;
  }

  function freshSet(nowMs: number): KeySet | undefined {
    return set !== undefined && setAgeMs(nowMs) < options.cacheMaxAge ? set : undefined;
  }

  /** The set when it is past `cacheMaxAge` but within `cacheMaxAgeFallback` of it: served, but only while refreshed. */
  function staleSet(nowMs: number): KeySet | undefined {
    if (set === undefined) return undefined;
    const ageMs = setAgeMs(nowMs);
    return ageMs >= options.cacheMaxAge && ageMs < options.cacheMaxAge + options.cacheMaxAgeFallback ? set : undefined;
  }

  /** True while the last failure holds fetches off. */
  function holdingOff(nowMs: number): boolean {
    return lastFailure !== undefined && elapsedMs(failedAtMs, nowMs) < retryWindowMs();
  }

  /**
   * The candidates a request gets without waiting: from the fresh set, or from a stale one, which
   * then starts one refresh the request does not await (single-flight, held off after a failure;
   * not an unknown-kid refetch, so the kid cooldown neither limits nor is used up by it).
   */
  function cachedCandidates(kid: string | undefined, alg: string, nowMs: number): readonly VerificationKey[] | undefined {
    const fresh = freshSet(nowMs)?.candidates(kid, alg);
    if (fresh !== undefined && fresh.length > 0) return fresh;
    const stale = staleSet(nowMs)?.candidates(kid, alg);
    if (stale === undefined || stale.length === 0) return undefined;
    // Not awaited, and its failure is already recorded by refresh(): nothing may reject unhandled.
    if (inflight === undefined && !holdingOff(nowMs)) refresh().catch(() => undefined);
    return stale;
  }

  /** The set a request falls back on when no fetch was allowed or it failed: fresh, or stale while the endpoint fails. */
  function usableSet(nowMs: number): KeySet | undefined {
    return freshSet(nowMs) ?? (lastFailure === undefined ? undefined : staleSet(nowMs));
  }

  /** How long after a failure nothing is fetched: the cooldown, or longer when the IdP asked (429/503 Retry-After). */
  function retryWindowMs(): number {
    return honouredRetryWindowMs(lastFailure, options.cooldown);
  }

  /** A 503 whose Retry-After is what is left of the retry window: never more than the window, whatever the clock did. */
  function outage(nowMs: number): KeySourceError {
    const retryAfterSec = Math.max(0, retryWindowMs() - elapsedMs(failedAtMs, nowMs)) / 1000;
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
    peekKeys: (kid: string | undefined, alg: string) => cachedCandidates(kid, alg, Date.now()),
    async getKeys(kid: string | undefined, alg: string) {
      const nowMs = Date.now();
      const found = cachedCandidates(kid, alg, nowMs);
      if (found !== undefined) return found;
      const loaded = await tryRefresh(nowMs, freshSet(nowMs) !== undefined);
      if (loaded === undefined) return answerFromCache(kid, alg, Date.now());
      const candidates = loaded.candidates(kid, alg);
      if (candidates.length === 0) throw keyNotFound(kid);
      return candidates;
    },
    hasKey(key: VerificationKey) {
      const nowMs = Date.now();
      if (freshSet(nowMs)?.has(key) === true) return true;
      return (inflight !== undefined || holdingOff(nowMs)) && staleSet(nowMs)?.has(key) === true;
    },
    keysAfterFailedSignature(kid: string | undefined, alg: string, tried: readonly VerificationKey[]) {
      const nowMs = Date.now();
      if (set === undefined || inflight !== undefined) return undefined;
      // A set younger than the cooldown is what the IdP publishes now: the failure is the token's.
      if (elapsedMs(setAtMs, nowMs) < options.cooldown || elapsedMs(kidRefetchAtMs, nowMs) < options.cooldown || holdingOff(nowMs)) return undefined;
      kidRefetchAtMs = nowMs;
      return refresh().then(
        (loaded) => {
          const fresh = loaded.candidates(kid, alg);
          return fresh.some((key) => !tried.includes(key)) ? fresh : undefined;
        },
        () => undefined,
      );
    },
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
