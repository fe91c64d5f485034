import { constants, sign, type KeyObject } from 'node:crypto';
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
 * Mints a compact JWS with node:crypto, so tests can build any header or claim set, valid or
 * forged. Claims are merged over `defaultClaims()`; a claim set to `undefined` is removed.
 */
export function signToken(key: TestKey, claims: Record<string, unknown> = {}, options: SignOptions = {}): string {
  const alg = options.alg ?? key.alg;
  const header = dropUndefined({ alg, typ: 'JWT', kid: key.kid, ...options.header });
  const payload = dropUndefined({ ...defaultClaims(), ...claims });
  const signingInput = `${encodeJSON(header)}.${encodeJSON(payload)}`;
  const signature = signBytes(alg, options.signingKey ?? key.privateKey, Buffer.from(signingInput));
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Encodes an arbitrary header and payload with an empty or given signature (for `alg: none` and other forgeries). */
export function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${encodeJSON(header)}.${encodeJSON(payload)}.${signature}`;
}

export function encodeJSON(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signBytes(alg: string, key: KeyObject, data: Buffer): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) {
    throw new Error('signToken: use createHmac for HMAC forgeries');
  }
  if (alg.startsWith('PS')) {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  }
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  return sign(hash, data, key);
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
