import { createHash, randomUUID } from 'node:crypto';
import { InvalidTokenError } from './errors.js';
import { elapsedMs } from './internal/elapsed.js';
import { isPlainObject, MAX_JSON_DEPTH, parseJSONTextSafely } from './internal/safe-json.js';
import type { SharedStore } from './store.js';
import { guardStore } from './store-guard.js';
import type { JWTPayload } from './types.js';

/** What the IdP said about a token that it accepted, and until when that may be reused. */
export interface OpaqueAnswer {
  readonly payload: JWTPayload;
  /** `Date.now()`-based; never past the token's `exp`. */
  readonly expiresAtMs: number;
}

/** An `active: false` another instance shared, and until when the fleet keeps it. */
export interface SharedRejection {
  readonly rejection: InvalidTokenError;
  /** `Date.now()`-based: what is left of the rejection's shared life, which no copy may outlive. */
  readonly expiresAtMs: number;
}

/** The fleet-wide layer behind the in-process opaque-token cache. */
export interface SharedAnswers {
  /**
   * The answer stored by any instance, or the one `fetch` gets. Of the instances that miss at
   * the same moment only the one holding the lock calls `fetch`; the others wait for its result.
   * Any store failure makes this call `fetch` itself: per-process behaviour, never an error.
   * A rejection another instance shared is returned, not thrown, so that its expiry reaches
   * the local cache.
   */
  lookup(context: string, token: string, fetch: () => Promise<OpaqueAnswer>): Promise<OpaqueAnswer | SharedRejection>;
}

const MAX_POLL_STEP_MS = 50;

/**
 * Shares introspection (or userinfo) answers through a store, keyed by the SHA-256 of the
 * endpoint, this API's client id and the token (never the token itself; the client secret never
 * reaches the store). Answers are stored raw: every instance still applies its own claim checks.
 * @param negativeTtlMs how long an inactive answer is shared; 0 for never
 * @param lockTtlMs how long one instance may hold the look-up of a token (its fetch deadline and a margin)
 */
export function createSharedAnswers(store: SharedStore, negativeTtlMs: number, lockTtlMs: number): SharedAnswers {
  const shared = guardStore(store);

  async function fetchAndShare(entryKey: string, lockKey: string, fetch: () => Promise<OpaqueAnswer>): Promise<OpaqueAnswer> {
    // Result first, then the lock: a waiter that sees the lock gone finds the result.
    const share = (value: string | undefined, ttlMs: number): void => {
      const stored = value !== undefined && ttlMs >= 1 ? shared.set(entryKey, value, ttlMs) : Promise.resolve();
      stored.catch(() => undefined).then(() => shared.delete(lockKey)).catch(() => undefined);
    };
    try {
      const answer = await fetch();
      share(JSON.stringify({ active: true, payload: answer.payload, expiresAtMs: answer.expiresAtMs }), answer.expiresAtMs - Date.now());
      return answer;
    } catch (err) {
      const inactive = err instanceof InvalidTokenError && err.reason === 'token_inactive' && negativeTtlMs > 0;
      share(inactive ? JSON.stringify({ active: false, expiresAtMs: Date.now() + negativeTtlMs }) : undefined, negativeTtlMs);
      throw err;
    }
  }

  async function waitForHolder(entryKey: string, lockKey: string): Promise<OpaqueAnswer | SharedRejection | 'fetch'> {
    const startMs = Date.now();
    let stepMs = 5;
    // Measured from the start, not to a deadline: a clock stepped back mid-wait ends the wait
    // (the request asks the IdP itself) instead of polling for as long as the step.
    while (elapsedMs(startMs, Date.now()) < lockTtlMs) {
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      stepMs = Math.min(stepMs * 2, MAX_POLL_STEP_MS);
      const found = readAnswer(await shared.get(entryKey));
      if (found !== undefined) return found;
      if ((await shared.get(lockKey)) === undefined) return readAnswer(await shared.get(entryKey)) ?? 'fetch';
    }
    return 'fetch';
  }

  return {
    async lookup(context, token, fetch) {
      const key = createHash('sha256').update(`${context}\n${token}`).digest('base64url');
      const entryKey = `introspection:${key}`;
      const lockKey = `introspection-lock:${key}`;
      let outcome: OpaqueAnswer | SharedRejection | 'fetch' | 'fetch-and-share';
      try {
        const found = readAnswer(await shared.get(entryKey));
        if (found !== undefined) return found;
        const locked = await shared.setIfAbsent(lockKey, randomUUID(), lockTtlMs);
        outcome = locked ? 'fetch-and-share' : await waitForHolder(entryKey, lockKey);
      } catch {
        outcome = 'fetch'; // the store failed: ask the IdP directly, as a lone instance would
      }
      if (outcome === 'fetch-and-share') return fetchAndShare(entryKey, lockKey, fetch);
      return outcome === 'fetch' ? fetch() : outcome;
    },
  };
}

/**
 * Reads a stored answer, or a shared negative one as a `SharedRejection` (`token_inactive`);
 * anything malformed, expired or nested deeper than an IdP answer may be counts as absent.
 */
function readAnswer(stored: string | undefined): OpaqueAnswer | SharedRejection | undefined {
  if (stored === undefined) return undefined;
  // One level more than an IdP answer: the answer sits in `payload`.
  const entry = parseJSONTextSafely(stored, MAX_JSON_DEPTH + 1);
  if (!isPlainObject(entry) || typeof entry.expiresAtMs !== 'number' || entry.expiresAtMs <= Date.now()) return undefined;
  if (entry.active === false) return { rejection: new InvalidTokenError('token_inactive', 'Token is not active'), expiresAtMs: entry.expiresAtMs };
  if (entry.active !== true || !isPlainObject(entry.payload)) return undefined;
  return { payload: entry.payload as JWTPayload, expiresAtMs: entry.expiresAtMs };
}
