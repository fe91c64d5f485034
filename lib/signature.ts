import jwt from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import { InvalidTokenError } from './errors.js';
import type { VerificationKey } from './key-set.js';

// One frozen options object per algorithm, made once: the per-request call allocates nothing.
const VERIFY_OPTIONS = new Map<string, jwt.VerifyOptions>();

function verifyOptionsFor(alg: string): jwt.VerifyOptions {
  let options = VERIFY_OPTIONS.get(alg);
  if (options === undefined) {
    options = Object.freeze({
      algorithms: [alg as jwt.Algorithm],
      // exp, nbf, iat, iss and aud are owned by claims.ts, with precise reasons.
      ignoreExpiration: true,
      ignoreNotBefore: true,
    });
    VERIFY_OPTIONS.set(alg, options);
  }
  return options;
}

/**
 * Checks a token's signature with `jsonwebtoken.verify`, the key as a `KeyObject` and the
 * algorithm pinned to the token's own `alg`, which the caller has already matched against its
 * allow-list (so `none` and HMAC can never be selected by the token).
 * @throws InvalidTokenError `signature_invalid`, with jsonwebtoken's error as `cause`
 */
export function verifySignature(token: string, key: KeyObject, alg: string): void {
  try {
    jwt.verify(token, key, verifyOptionsFor(alg));
  } catch (err) {
    throw signatureInvalid(err);
  }
}

/** The error of a signature that does not verify, with jsonwebtoken's error as `cause`. */
export function signatureInvalid(cause: unknown): InvalidTokenError {
  return new InvalidTokenError('signature_invalid', 'Token signature is invalid', { cause });
}

/**
 * Tries each candidate key (several only when a JWKS repeats a `kid`), so that duplicate kids
 * never make a valid token fail at random. Returns the key that verified.
 */
export function verifyWithCandidates(token: string, alg: string, candidates: readonly VerificationKey[]): VerificationKey {
  let failure: unknown;
  for (const candidate of candidates) {
    try {
      verifySignature(token, candidate.key, alg);
      return candidate;
    } catch (err) {
      failure = err;
    }
  }
  throw failure ?? new InvalidTokenError('key_not_found', "No key in the issuer's key set fits this token");
}
