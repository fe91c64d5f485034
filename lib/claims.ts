import { InvalidTokenError } from './errors.js';
import type { JWTPayload } from './types.js';

/** The claim rules of one issuer, fully defaulted (see `resolveOptions`). */
export interface ClaimPolicy {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Accept tokens that carry no `aud` at all (a token that has one must still match). */
  readonly allowMissingAudience: boolean;
  /** Seconds of clock skew allowed on `exp`, `nbf`, `iat`. */
  readonly clockTolerance: number;
  /** Seconds since `iat` after which a token is too old; `undefined` for no limit. */
  readonly maxTokenAge: number | undefined;
  /** Claims that must be present (not `undefined` or `null`). */
  readonly requiredClaims: readonly string[];
}

/** RFC 9068 §2.2: claims every JWT access token must carry. */
export const AT_JWT_REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] as const;

/** Runs every claim rule of `policy` against verified claims; throws on the first failure. */
export function checkClaims(payload: JWTPayload, policy: ClaimPolicy, nowSec: number): void {
  checkIssuer(payload, policy.issuer);
  checkAudience(payload, policy.audiences, policy.allowMissingAudience);
  checkTimeClaims(payload, policy, nowSec);
  checkRequiredClaims(payload, policy.requiredClaims);
  checkStringClaims(payload);
  checkNotSenderConstrained(payload);
}

/** Claims that are strings whenever present: RFC 7519 §4.1.2 `sub`, §4.1.7 `jti`; RFC 8693 §4.3 `client_id`. */
const STRING_CLAIMS = ['sub', 'jti', 'client_id'] as const;

/**
 * Each of `sub`, `jti` and `client_id`, when present, must be a string. Apps compare and store
 * them as identifiers: a number, `null` or an object (`{"$ne": null}` handed to a database query)
 * in their place is refused here rather than trusted there. RFC 9068 `typ: at+jwt` also requires them.
 */
export function checkStringClaims(payload: JWTPayload): void {
  for (const claim of STRING_CLAIMS) {
    const value = payload[claim];
    if (value !== undefined && typeof value !== 'string') throw new InvalidTokenError('claim_invalid', `Token "${claim}" claim is not a string`);
  }
}

/**
 * RFC 7800 / RFC 9449 §6 / RFC 8705 §3: a token with a `cnf` claim is bound to a key its sender
 * must prove possession of (DPoP, mTLS). Accepting it as a plain bearer token would let whoever
 * stole it replay it, so it is refused: bearer-guard verifies bearer tokens only.
 */
export function checkNotSenderConstrained(payload: JWTPayload): void {
  if (payload.cnf !== undefined) {
    throw new InvalidTokenError('claim_invalid', 'Token is bound to a proof-of-possession key ("cnf"), which a bearer token check cannot prove');
  }
}

/** The claims that change with the clock; also re-run on every verified-token cache hit. */
export function checkTimeClaims(payload: JWTPayload, policy: Pick<ClaimPolicy, 'clockTolerance' | 'maxTokenAge'>, nowSec: number): void {
  checkExpiry(payload, nowSec, policy.clockTolerance);
  checkNotBefore(payload, nowSec, policy.clockTolerance);
  checkIssuedAt(payload, nowSec, policy.clockTolerance, policy.maxTokenAge);
}

/** RFC 7519 §4.1.1: `iss` must equal the configured issuer exactly (no normalisation). */
export function checkIssuer(payload: JWTPayload, issuer: string): void {
  if (payload.iss === undefined) throw new InvalidTokenError('claim_missing', 'Token has no "iss" claim');
  if (payload.iss !== issuer) throw new InvalidTokenError('issuer_mismatch', 'Token issuer is not the expected one');
}

/** RFC 7519 §4.1.3: one element of `aud` (string or array of strings) must equal a configured audience. */
export function checkAudience(payload: JWTPayload, audiences: readonly string[], allowMissing: boolean): void {
  const { aud } = payload;
  if (aud === undefined) {
    if (allowMissing) return;
    throw new InvalidTokenError('claim_missing', 'Token has no "aud" claim');
  }
  const values: readonly unknown[] = Array.isArray(aud) ? aud : [aud];
  if (!values.every((value) => typeof value === 'string')) {
    throw new InvalidTokenError('claim_invalid', 'Token "aud" claim is not a string or an array of strings');
  }
  if (!values.some((value) => audiences.includes(value as string))) {
    throw new InvalidTokenError('audience_mismatch', 'Token audience is not this API');
  }
}

/** RFC 7519 §4.1.4: `exp` is required here, and the current time must be before it. */
export function checkExpiry(payload: JWTPayload, nowSec: number, toleranceSec: number): void {
  const exp = numericDate(payload, 'exp');
  if (exp === undefined) throw new InvalidTokenError('claim_missing', 'Token has no "exp" claim');
  if (nowSec >= exp + toleranceSec) throw new InvalidTokenError('token_expired', `Token expired${atTime(exp)}`);
}

/** RFC 7519 §4.1.5: when present, the current time must be at or after `nbf`. */
export function checkNotBefore(payload: JWTPayload, nowSec: number, toleranceSec: number): void {
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && nowSec + toleranceSec < nbf) {
    throw new InvalidTokenError('token_not_yet_valid', `Token is not valid${atTime(nbf, 'before')}`);
  }
}

/** RFC 7519 §4.1.6: `iat` must not lie in the future; with `maxTokenAge` it is required and bounds the age. */
export function checkIssuedAt(payload: JWTPayload, nowSec: number, toleranceSec: number, maxTokenAgeSec: number | undefined): void {
  const iat = numericDate(payload, 'iat');
  if (iat === undefined) {
    if (maxTokenAgeSec === undefined) return;
    throw new InvalidTokenError('claim_missing', 'Token has no "iat" claim, which `maxTokenAge` requires');
  }
  if (iat > nowSec + toleranceSec) throw new InvalidTokenError('issued_in_future', 'Token "iat" lies in the future');
  if (maxTokenAgeSec !== undefined && nowSec - iat > maxTokenAgeSec + toleranceSec) {
    throw new InvalidTokenError('token_too_old', `Token was issued more than ${maxTokenAgeSec} s ago`);
  }
}

/** Each listed claim must be present and not `null`. */
export function checkRequiredClaims(payload: JWTPayload, requiredClaims: readonly string[]): void {
  for (const claim of requiredClaims) {
    if (payload[claim] === undefined || payload[claim] === null) {
      throw new InvalidTokenError('claim_missing', `Token has no "${claim}" claim`);
    }
  }
}

/** A NumericDate claim (RFC 7519 §2): a finite JSON number, or absent. */
function numericDate(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidTokenError('claim_invalid', `Token "${claim}" claim is not a NumericDate`);
  }
  return value;
}

/**
 * " at 2026-12-02T06:00:00.000Z" (or " before …"), the one piece of a claim a message shows: a time
 * helps whoever debugs a clock or a lifetime. A NumericDate no Date can hold gets nothing: the raw
 * number would be token text, chosen by whoever made the token, in messages, headers and logs.
 */
function atTime(seconds: number, preposition = 'at'): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? '' : ` ${preposition} ${date.toISOString()}`;
}
