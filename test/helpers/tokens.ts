import type { KeyObject } from 'node:crypto';
import { signJWT } from '../../lib/testing/index.js';
import { encodeSegment } from '../../lib/testing/sign-jwt.js';

/** One JWS segment: the base64url of a value's JSON text. */
export const encodeJSON = encodeSegment;
import type { TestKey } from './keys.js';

/** The test clock: tokens are minted relative to this second. */
export const NOW = Math.floor(Date.now() / 1000);
export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'https://api.test';

export interface SignOptions {
  /** Header members to add or override (`undefined` removes one, e.g. `{ kid: undefined }`). */
  header?: Record<string, unknown>;
  /** Signature algorithm; defaults to the key's own. */
  alg?: string;
  /** Sign with this key instead of `key.privateKey` (e.g. a different key under the same kid). */
  signingKey?: KeyObject;
}

/** Claims of a valid token: iss, aud, sub, iat = NOW, exp = NOW + 5 min. */
export function defaultClaims(): Record<string, unknown> {
  return { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'user-1', iat: NOW, exp: NOW + 300 };
}

/**
 * Mints a compact JWS with the test kit's `signJWT`, so tests can build any header or claim set,
 * valid or forged. Claims are merged over `defaultClaims()`; a claim set to `undefined` is removed.
 */
export function signToken(key: TestKey, claims: Record<string, unknown> = {}, options: SignOptions = {}): string {
  const header = { alg: options.alg ?? key.alg, typ: 'JWT', kid: key.kid, ...options.header };
  return signJWT(header, { ...defaultClaims(), ...claims }, options.signingKey ?? key.privateKey);
}

/** Encodes an arbitrary header and payload with an empty or given signature (for `alg: none` and other forgeries). */
export function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}
