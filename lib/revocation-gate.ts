import { InvalidTokenError, KeySourceError } from './errors.js';
import type { RevocationMirror } from './revocation-mirror.js';
import type { RevocationSync } from './revocation-sync.js';
import type { StoreLogger } from './store.js';
import { log } from './store-guard.js';
import type { JWTPayload } from './types.js';

/** What a mirror out of sync past `maxStaleness` does: keep serving (with a warning) or answer 503. */
export type StalePolicy = 'serve' | 'reject';

/** What the verifier runs after a token verified (or came from the cache). */
export interface RevocationGate {
  /** Throws `token_revoked` (401) or, failing closed, `revocations_unavailable` (503); async only before the first load. */
  check(payload: JWTPayload, issuer: string): void | Promise<void>;
}

/**
 * The per-request check of a revocation list: the mirror alone (no I/O), except that the very
 * first requests wait for the first load of the shared list. A revocation the mirror holds is
 * enforced whatever the sync state; out of sync, `onStale` decides, and one warning says so.
 */
export function createRevocationGate(
  mirror: RevocationMirror,
  sync: RevocationSync | undefined,
  onStale: StalePolicy,
  logger: StoreLogger | undefined,
  retryAfterSec: number,
): RevocationGate {
  let warned = false;

  function warnOnce(): void {
    if (warned) return;
    warned = true;
    const since = sync?.syncedAtMs === undefined ? 'this instance started' : new Date(sync.syncedAtMs).toISOString();
    const effect = onStale === 'reject' ? 'requests get 503 until it is back in sync' : 'tokens revoked elsewhere since then are accepted here until it is back in sync';
    log(logger, 'warn', `bearer-guard: the revocation list has not been in sync with the shared store since ${since} (onStale: '${onStale}'); ${effect}`);
  }

  const gate: RevocationGate = {
    check(payload, issuer) {
      const nowMs = Date.now();
      const state = sync?.state(nowMs) ?? 'synced';
      if (state === 'loading') return sync!.firstAttempt.then(() => gate.check(payload, issuer));
      if (mirror.isRevoked(payload, issuer, nowMs)) throw new InvalidTokenError('token_revoked', 'Token has been revoked');
      if (state === 'synced') {
        if (warned) log(logger, 'info', 'bearer-guard: the revocation list is in sync again');
        warned = false;
        return;
      }
      warnOnce();
      if (onStale === 'reject') {
        throw new KeySourceError('Revocations cannot be checked: the revocation list is out of sync', retryAfterSec, { reason: 'revocations_unavailable' });
      }
    },
  };
  return gate;
}
