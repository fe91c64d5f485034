import { auditClaims, callHook, rejectedEvent, type AuditHooks } from './audit.js';
import { InvalidTokenError, isAuthError, type AuthError } from './errors.js';
import type { RevocationGate } from './revocation-gate.js';
import type { AuthResult, DecodedJWT } from './types.js';

/** What a failing request had decoded so far (for the audit event), if anything. */
export type Seen = Pick<DecodedJWT, 'header' | 'payload'> | Pick<AuthResult, 'header' | 'payload'> | undefined;

/**
 * How a verifier ends each request: the revocation check and `onVerified` for an accepted token,
 * `onRejected` and the mapping to an `AuthError` for a refused one. The same for every path
 * (cache hit, single decode, strict decode, opaque token), so it lives apart from them.
 */
export interface VerifyOutcomes {
  /** Reports an accepted result to `onVerified` and returns it. */
  accept(result: AuthResult, cached: boolean): AuthResult;
  /** Accepts a verified result unless it is revoked: checked on every request, cache hits included. */
  admit(result: AuthResult, cached: boolean, issuer: string): AuthResult | Promise<AuthResult>;
  /** Maps any failure to an AuthError and reports it; the audit claims are read only now, on failure. */
  reject(err: unknown, seen: Seen): AuthError;
  /** A late failure (revocation check before the first load, key fetch) still goes through `reject`. */
  settle(outcome: AuthResult | Promise<AuthResult>, seen: Seen): AuthResult | Promise<AuthResult>;
}

/** The outcomes of one verifier, with its audit hooks and revocation list (if any). */
export function createVerifyOutcomes(hooks: AuditHooks, revocations: RevocationGate | undefined): VerifyOutcomes {
  const { onVerified, onRejected } = hooks;

  function accept(result: AuthResult, cached: boolean): AuthResult {
    if (onVerified) callHook(onVerified, { source: result.source, cached, ...auditClaims(result.header, result.payload) });
    return result;
  }

  function reject(err: unknown, seen: Seen): AuthError {
    const error = isAuthError(err) ? err : new InvalidTokenError('verification_failed', 'Token could not be verified', { cause: err });
    if (onRejected) callHook(onRejected, rejectedEvent(error, auditClaims(seen?.header, seen?.payload)));
    return error;
  }

  return {
    accept,
    reject,
    admit(result, cached, issuer) {
      const pending = revocations?.check(result.payload, issuer);
      return pending === undefined ? accept(result, cached) : pending.then(() => accept(result, cached));
    },
    settle(outcome, seen) {
      if (!(outcome instanceof Promise)) return outcome;
      return outcome.then(undefined, (err: unknown) => {
        throw reject(err, seen);
      });
    },
  };
}
