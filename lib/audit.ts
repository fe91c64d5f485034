import type { AuthErrorCode, AuthErrorReason } from './auth-error-reason.js';
import type { AuthError } from './errors.js';
import type { AuthSource, JWTHeader, JWTPayload } from './types.js';

/** The claims an audit log wants; strings only, capped in length. Never the token. */
export interface AuditClaims {
  iss: string | undefined;
  sub: string | undefined;
  aud: string | string[] | undefined;
  kid: string | undefined;
}

/** Passed to `onVerified` for every accepted request, cache hits included. */
export interface VerifiedEvent extends AuditClaims {
  source: AuthSource;
  /** True when the verified-token cache answered (no signature check this time). */
  cached: boolean;
}

/** Passed to `onRejected` for every refused token; its claims are unverified and may be forged. */
export interface RejectedEvent extends AuditClaims {
  status: number;
  code: AuthErrorCode | undefined;
  reason: AuthErrorReason;
}

/** Audit hooks: called synchronously; what they throw (or reject with) is swallowed, never fails a request. */
export interface AuditHooks {
  /** Called for each verified request. */
  onVerified?: ((event: VerifiedEvent) => void) | undefined;
  /** Called for each rejected token (not for requests without one). */
  onRejected?: ((event: RejectedEvent) => void) | undefined;
}

const MAX_AUDIT_STRING = 256;
const MAX_AUDIT_AUDIENCES = 10;

/** Picks the audit claims out of a header and payload, trusting nothing about their types. */
export function auditClaims(header: JWTHeader | undefined, payload: JWTPayload | undefined): AuditClaims {
  const aud = payload?.aud;
  return {
    iss: auditString(payload?.iss),
    sub: auditString(payload?.sub),
    aud: Array.isArray(aud) ? aud.slice(0, MAX_AUDIT_AUDIENCES).map(auditString).filter((v): v is string => v !== undefined) : auditString(aud),
    kid: auditString(header?.kid),
  };
}

/** Builds the rejected event for an error. */
export function rejectedEvent(error: AuthError, claims: AuditClaims): RejectedEvent {
  return { status: error.status, code: error.code, reason: error.reason, ...claims };
}

/** Calls a hook so that neither a throw nor a rejected promise can escape into the request. */
export function callHook<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (hook === undefined) return;
  try {
    const returned: unknown = hook(event);
    if (returned instanceof Promise) returned.catch(() => undefined);
  } catch {
    // An audit sink failing must not change an authentication outcome.
  }
}

function auditString(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_AUDIT_STRING) : undefined;
}
