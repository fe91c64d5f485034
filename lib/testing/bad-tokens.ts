import { randomBytes } from 'node:crypto';
import type { AuthErrorReason } from '../auth-error-reason.js';
import { decodeJWT } from '../decode.js';
import { ConfigError } from '../errors.js';
import { encodeSegment, signJWT } from './sign-jwt.js';
import type { TestKey } from './test-key.js';

/**
 * The forgeries and mistakes every protected route must answer with 401, each derived from a
 * good token (see `TestIssuer.badToken`):
 * - `'tampered'`: the payload changed (`sub` replaced), the original signature kept;
 * - `'bad-signature'`: header and claims intact, signed by a key the issuer never published;
 * - `'expired'`: re-signed by the issuer with `exp` an hour ago (lifetime kept);
 * - `'wrong-audience'`: re-signed with `aud: 'https://wrong-audience.invalid'`;
 * - `'wrong-issuer'`: re-signed with `iss: 'https://wrong-issuer.invalid'`;
 * - `'alg-none'`: `alg: 'none'` and no signature (RFC 7518 §3.6);
 * - `'alg-confusion'`: `alg: 'HS256'`, HMAC keyed by the issuer's public key in PEM form;
 * - `'unknown-kid'`: a `kid` the JWKS does not hold, signed by an unpublished key.
 *   It makes a verifier refetch the JWKS (bearer-guard: at most once per `cooldown`).
 *
 * Every kind but `'tampered'` writes a new header. When the JWKS no longer holds the good
 * token's `kid` (after `rotateKeys()` or `setKeys()`), that header names the current key, with
 * its `kid` and `alg`, and the re-signed kinds sign with it: under the old `kid` the token would
 * fail as `key_not_found` or `signature_invalid`, not for the reason its kind claims.
 * `'tampered'` keeps the good token's header and signature, so derive it from a token of a
 * published key.
 */
export type BadTokenKind =
  | 'tampered'
  | 'bad-signature'
  | 'expired'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'alg-none'
  | 'alg-confusion'
  | 'unknown-kid';

/** The `reason` bearer-guard's `InvalidTokenError` carries for each `BadTokenKind`. */
export const BAD_TOKEN_REASONS: Readonly<Record<BadTokenKind, AuthErrorReason>> = Object.freeze({
  'tampered': 'signature_invalid',
  'bad-signature': 'signature_invalid',
  'expired': 'token_expired',
  'wrong-audience': 'audience_mismatch',
  'wrong-issuer': 'issuer_mismatch',
  'alg-none': 'algorithm_not_allowed',
  'alg-confusion': 'algorithm_not_allowed',
  'unknown-kid': 'key_not_found',
});

/** Every `BadTokenKind`, for `it.each(BAD_TOKEN_KINDS)`. */
export const BAD_TOKEN_KINDS: readonly BadTokenKind[] = Object.freeze(Object.keys(BAD_TOKEN_REASONS) as BadTokenKind[]);

/**
 * Throws unless `kind` is one of `BAD_TOKEN_KINDS`.
 * @param where the public method name that starts the message
 */
export function checkBadTokenKind(where: string, kind: unknown): asserts kind is BadTokenKind {
  if (typeof kind !== 'string' || !Object.hasOwn(BAD_TOKEN_REASONS, kind)) {
    throw new ConfigError(`${where}: unknown kind "${String(kind)}" (one of ${BAD_TOKEN_KINDS.join(', ')})`);
  }
}

/** The keys a forgery may be made with. */
export interface ForgeryKeys {
  /** The issuer's own key for a token's `kid` (its current key when the `kid` is not its own). */
  forKid(kid: string | undefined): TestKey;
  /** A key of this algorithm that the issuer has never published. */
  stranger(alg: string): TestKey;
}

/**
 * Derives a bad token of `kind` from `token`, a compact JWS that need not be valid.
 * @param nowSec the current time, which `'expired'` moves `exp` back from
 */
export function deriveBadToken(kind: BadTokenKind, token: string, keys: ForgeryKeys, nowSec: number): string {
  const decoded = decodeJWT(token, { complete: true });
  const { payload } = decoded;
  const own = keys.forKid(decoded.header.kid);
  // A kid the issuer no longer publishes: name the key that really signs, or the verifier would
  // fail on the kid rather than on the claim this kind is about.
  const header = typeof decoded.header.kid === 'string' && decoded.header.kid !== own.kid
    ? { ...decoded.header, kid: own.kid, alg: own.alg }
    : decoded.header;
  switch (kind) {
    case 'tampered': {
      const [head, , signature] = token.split('.');
      const sub = payload.sub === 'tampered-subject' ? 'tampered-subject-2' : 'tampered-subject';
      return `${head}.${encodeSegment({ ...payload, sub })}.${signature}`;
    }
    case 'bad-signature':
      return signJWT(header, payload, keys.stranger(header.alg).privateKey);
    case 'expired':
      return signJWT(header, expire(payload, nowSec), own.privateKey);
    case 'wrong-audience':
      return signJWT(header, { ...payload, aud: 'https://wrong-audience.invalid' }, own.privateKey);
    case 'wrong-issuer':
      return signJWT(header, { ...payload, iss: 'https://wrong-issuer.invalid' }, own.privateKey);
    case 'alg-none':
      return signJWT({ ...header, alg: 'none' }, payload, undefined);
    case 'alg-confusion':
      return signJWT({ ...header, alg: 'HS256' }, payload, own.publicKey);
    case 'unknown-kid': {
      const stranger = keys.stranger(header.alg);
      return signJWT({ ...header, kid: `unknown-${randomBytes(6).toString('hex')}` }, payload, stranger.privateKey);
    }
  }
}

/** The claims moved back so that `exp` lies an hour before `nowSec`; `iat` and `nbf` keep their offsets. */
function expire(payload: Record<string, unknown>, nowSec: number): Record<string, unknown> {
  const exp = nowSec - 3600;
  const shift = typeof payload.exp === 'number' ? exp - payload.exp : 0;
  const moved: Record<string, unknown> = { ...payload, exp };
  if (typeof payload.iat === 'number') moved.iat = payload.iat + shift;
  if (typeof payload.nbf === 'number') moved.nbf = payload.nbf + shift;
  return moved;
}
