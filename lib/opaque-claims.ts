import { checkAudience, checkExpiry, checkIssuedAt, checkIssuer, checkNotBefore, checkNotSenderConstrained, checkRequiredClaims, checkStringClaims } from './claims.js';
import { InvalidTokenError } from './errors.js';
import type { ResolvedOpaqueOptions } from './opaque-options.js';
import type { ResolvedIssuer } from './options.js';
import type { JWTPayload } from './types.js';

/**
 * The JWT claim rules, applied to what the IdP answered. Introspection answers carry `iss`,
 * `aud`, `exp` and `iat` only optionally (RFC 7662 §2.2): each is checked when present; `aud` is
 * required unless the issuer or `introspection.allowMissingAudience` allows missing audiences,
 * and `iat` when `maxTokenAge` is set (an age that cannot be shown is not within the limit).
 * Userinfo has no audience at all. `sub`, `jti` and `client_id` are strings (RFC 7662 §2.2).
 */
export function checkOpaqueClaims(payload: JWTPayload, policy: ResolvedIssuer, opaque: Pick<ResolvedOpaqueOptions, 'method' | 'allowMissingAudience'>, nowSec: number): void {
  if (payload.iss !== undefined) checkIssuer(payload, policy.issuer);
  if (opaque.method === 'introspection') {
    checkAudience(payload, policy.audiences, policy.allowMissingAudience || opaque.allowMissingAudience);
    checkAccessToken(payload);
  }
  if (payload.exp !== undefined) checkExpiry(payload, nowSec, policy.clockTolerance);
  checkNotBefore(payload, nowSec, policy.clockTolerance);
  checkIssuedAt(payload, nowSec, policy.clockTolerance, policy.maxTokenAge);
  checkRequiredClaims(payload, policy.requiredClaims);
  checkStringClaims(payload);
  checkNotSenderConstrained(payload);
}

/** How long an answer may still be trusted by its own `exp`, in ms (RFC 7662 §4: a cached answer must not outlive the token). */
export function untilExpiry(payload: JWTPayload, nowMs: number): number {
  return typeof payload.exp === 'number' ? payload.exp * 1000 - nowMs : Infinity;
}

/** How long an answer that passed `checkIssuedAt` still would, in ms: until its age passes `maxTokenAge`. */
export function untilTooOld(payload: JWTPayload, policy: ResolvedIssuer, nowMs: number): number {
  if (policy.maxTokenAge === undefined || typeof payload.iat !== 'number') return Infinity;
  return (payload.iat + policy.maxTokenAge + policy.clockTolerance) * 1000 - nowMs;
}

/**
 * An introspected refresh token is active too, but it is not a bearer credential for an API
 * (RFC 6749 §1.5): an answer that says so, by `token_type` (RFC 7662 §2.2, as some IdPs fill it)
 * or `token_use` (ORY Hydra, Cognito), is refused.
 */
function checkAccessToken(payload: JWTPayload): void {
  const { token_type: type, token_use: use } = payload;
  if ((typeof type === 'string' && /refresh/i.test(type)) || (typeof use === 'string' && /refresh/i.test(use))) {
    throw new InvalidTokenError('claim_invalid', 'Introspection answer is for a refresh token, not an access token');
  }
}
