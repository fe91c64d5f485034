import { InvalidTokenError } from './errors.js';
import type { JWTHeader } from './types.js';

/** Header rules of one issuer, fully defaulted. */
export interface HeaderPolicy {
  /** Signature algorithms accepted; never `none`, never HMAC. */
  readonly algorithms: readonly string[];
  /** `'at+jwt'`: only RFC 9068 access tokens; `undefined`: absent, `JWT` or `at+jwt`. */
  readonly typ: 'at+jwt' | undefined;
}

const DEFAULT_TYPES = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);
const AT_JWT_TYPES = new Set(['at+jwt', 'application/at+jwt']);
// Headers that name or carry a key (RFC 7515 §4.1.2-4.1.6, RFC 7797): we never take keys from a token.
const KEY_CARRYING_MEMBERS = ['jku', 'jwk', 'x5u', 'x5c'] as const;
const MAX_KID_LENGTH = 256;

/**
 * Checks a decoded JWS header before any key is looked up, so a hostile header costs nothing.
 * @throws InvalidTokenError `algorithm_not_allowed`, `type_invalid`, `header_invalid` or `kid_invalid`
 */
export function checkHeader(header: JWTHeader, policy: HeaderPolicy): void {
  if (!policy.algorithms.includes(header.alg)) {
    throw new InvalidTokenError('algorithm_not_allowed', `Token algorithm is not one of: ${policy.algorithms.join(', ')}`);
  }
  checkType(header.typ, policy.typ);
  // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject; we understand none.
  if (header.crit !== undefined) throw new InvalidTokenError('header_invalid', 'Token header has "crit" extensions');
  // RFC 7797 unencoded payloads would change what is signed.
  if (header.b64 !== undefined) throw new InvalidTokenError('header_invalid', 'Token header has "b64"');
  // RFC 7519 §5.2: cty "JWT" means a nested token, which is not a bearer access token; a cty
  // that is not even a string is a malformed header.
  if (header.cty !== undefined && (typeof header.cty !== 'string' || header.cty.toUpperCase() === 'JWT')) {
    throw new InvalidTokenError('header_invalid', 'Token is a nested JWT');
  }
  for (const member of KEY_CARRYING_MEMBERS) {
    if (header[member] !== undefined) throw new InvalidTokenError('header_invalid', `Token header carries a key location ("${member}")`);
  }
  checkKeyId(header.kid);
}

function checkType(typ: unknown, required: 'at+jwt' | undefined): void {
  if (typ === undefined && required === undefined) return;
  // RFC 7515 §4.1.9: media type names are case-insensitive and may omit "application/".
  const normalized = typeof typ === 'string' ? typ.toLowerCase() : undefined;
  const accepted = required === 'at+jwt' ? AT_JWT_TYPES : DEFAULT_TYPES;
  if (normalized === undefined || !accepted.has(normalized)) {
    throw new InvalidTokenError('type_invalid', required === 'at+jwt' ? 'Token "typ" is not "at+jwt" (RFC 9068)' : 'Token "typ" is not a JWT access token type');
  }
}

function checkKeyId(kid: unknown): void {
  if (kid === undefined) return;
  if (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH) {
    throw new InvalidTokenError('kid_invalid', `Token "kid" is not a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
}
