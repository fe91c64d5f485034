import { createHash } from 'node:crypto';
import { InvalidTokenError } from './errors.js';
import { LruMap } from './internal/lru-map.js';
import type { JWTPayload } from './types.js';

/**
 * What a look-up of an opaque token produced, to keep for `ttlMs`: claims, or a rejection that
 * is known to hold only that long (a fleet's shared `active: false`, with what is left of its life).
 */
export type OpaqueLookup =
  | { readonly payload: JWTPayload; readonly ttlMs: number }
  | { readonly rejection: InvalidTokenError; readonly ttlMs: number };

/** Bounds of the cache of introspection / userinfo answers. */
export interface OpaqueCacheOptions {
  /** Most accepted answers kept; rejections get a tenth of it (at least 1) of their own. */
  readonly maxEntries: number;
  /** How long a rejection (inactive, unknown token) is remembered, in ms; 0 for never. */
  readonly negativeTtlMs: number;
  /** Most bytes of accepted answers kept, counted as their JSON text. Default `MAX_CACHED_ANSWER_BYTES`. */
  readonly maxBytes?: number;
}

/**
 * Default total size of the accepted answers kept, in bytes of their JSON text: 64 MiB. The
 * entry count alone does not bound memory when one answer may be `maxResponseBytes` (512 KiB by
 * default): 10 000 of them would be 5 GiB. Real answers are a few hundred bytes, so at the
 * default 10 000 entries (a few MiB) this never binds; it binds only when answers are unusually
 * large, which then cost an IdP call each instead of the process's memory. A parsed answer
 * takes a small multiple of its text, so the cache stays within a few hundred MiB at worst.
 */
export const MAX_CACHED_ANSWER_BYTES = 64 * 1024 * 1024;

/** `hit` is what every cache hit resolves to, made once per answer rather than once per request. */
type Answer = { readonly payload: JWTPayload; readonly expiresAtMs: number; readonly bytes: number; readonly hit: { readonly payload: JWTPayload; readonly cached: boolean } };
type Rejection = { readonly rejection: InvalidTokenError; readonly expiresAtMs: number };

/**
 * Caches what the IdP said about opaque tokens, keyed by the SHA-256 of the full token (never
 * the token itself), and makes concurrent look-ups of one uncached token share one call.
 * Only token verdicts are cached: an outage (KeySourceError) is never remembered.
 */
export interface OpaqueCache {
  /** The cached claims (`cached: true`) or those `load` fetched, shared by concurrent callers. */
  lookup(token: string, nowMs: number, load: () => Promise<OpaqueLookup>): Promise<{ readonly payload: JWTPayload; readonly cached: boolean }>;
  /** Entries kept, accepted and rejected. */
  readonly size: number;
}

/** Creates an opaque-token cache. */
export function createOpaqueCache(options: OpaqueCacheOptions): OpaqueCache {
  const { maxEntries, negativeTtlMs } = options;
  const maxBytes = options.maxBytes ?? MAX_CACHED_ANSWER_BYTES;
  // Rejections have a bound of their own, a tenth of the accepted ones' (at least 1): anyone can
  // send random tokens without credentials, and under one shared bound a flood of them would
  // evict every legitimate client's answer. A rejection only spares the IdP the same bad token
  // sent again (a client retrying a revoked token), which a small share absorbs; a flood of
  // distinct junk no cache absorbs, so a larger share would only buy memory for it.
  const maxRejections = Math.ceil(maxEntries / 10);
  // Least recently used first out: O(1) however many entries (see lru-map.ts).
  const answers = new LruMap<string, Answer>();
  const rejections = new LruMap<string, Rejection>();
  const inflight = new Map<string, Promise<{ readonly payload: JWTPayload; readonly cached: boolean }>>();
  let answerBytes = 0;

  function forgetAnswer(key: string, entry: Answer): void {
    answers.delete(key);
    answerBytes -= entry.bytes;
  }

  function rememberAnswer(key: string, payload: JWTPayload, expiresAtMs: number): void {
    if (expiresAtMs <= Date.now() || maxEntries === 0) return;
    // Measured once, on a miss (which has just waited for the IdP), never on a hit.
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    // One answer over the whole budget would evict everything and still not fit.
    if (bytes > maxBytes) return;
    rejections.delete(key);
    const earlier = answers.get(key);
    if (earlier !== undefined) forgetAnswer(key, earlier);
    answers.set(key, { payload, expiresAtMs, bytes, hit: Object.freeze({ payload, cached: true }) });
    answerBytes += bytes;
    while (answers.size > maxEntries || answerBytes > maxBytes) {
      const oldest = answers.oldestKey()!;
      // LruMap has no peek: `get` moves the entry to the newest end, and `forgetAnswer` drops it.
      forgetAnswer(oldest, answers.get(oldest)!);
    }
  }

  function rememberRejection(key: string, rejection: InvalidTokenError, expiresAtMs: number): void {
    if (expiresAtMs <= Date.now() || maxRejections === 0) return;
    // Never in both maps: a token the IdP now refuses must not be answered from an old acceptance.
    const earlier = answers.get(key);
    if (earlier !== undefined) forgetAnswer(key, earlier);
    rejections.set(key, { rejection, expiresAtMs });
    if (rejections.size > maxRejections) rejections.delete(rejections.oldestKey()!);
  }

  return {
    get size() {
      return answers.size + rejections.size;
    },
    lookup(token, nowMs, load) {
      const key = createHash('sha256').update(token).digest('base64url');
      const answer = answers.get(key);
      if (answer !== undefined) {
        if (answer.expiresAtMs > nowMs) return Promise.resolve(answer.hit);
        forgetAnswer(key, answer);
      }
      const rejected = rejections.get(key);
      if (rejected !== undefined) {
        // A new error per request, as for every other failure: an app or `withRealm` changing the
        // one it got must not change what the next request with this token is told.
        if (rejected.expiresAtMs > nowMs) return Promise.reject(new InvalidTokenError(rejected.rejection.reason, rejected.rejection.message));
        rejections.delete(key);
      }
      const pending = inflight.get(key);
      if (pending !== undefined) return pending;
      const call = load().then(
        (found) => {
          if ('rejection' in found) {
            rememberRejection(key, found.rejection, Date.now() + Math.min(found.ttlMs, negativeTtlMs));
            throw found.rejection;
          }
          rememberAnswer(key, found.payload, Date.now() + found.ttlMs);
          return { payload: found.payload, cached: false };
        },
        (err: unknown) => {
          if (err instanceof InvalidTokenError) rememberRejection(key, err, Date.now() + negativeTtlMs);
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
