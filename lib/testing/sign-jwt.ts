import { constants, createHmac, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';

/**
 * Encodes and signs a compact JWS exactly as given: no defaults, no checks, so a test can build
 * any header or claim set, valid or forged. Members set to `undefined` are left out.
 *
 * The signature follows `header.alg` (RFC 7518 §3): `RS*` PKCS#1 v1.5, `PS*` PSS with a
 * digest-length salt, `ES*` the raw `r || s` form, `none` an empty signature (the key is
 * ignored). `HS*` signs with HMAC keyed by a secret `KeyObject`, or, given an asymmetric key,
 * by the PEM text of its public half: the algorithm-confusion forgery that a verifier letting
 * the token pick HMAC would accept.
 * @throws ConfigError when `header.alg` is missing or unknown, or node:crypto cannot sign with the key
 * @example
 * const token = signJWT({ alg: 'RS256', kid: key.kid }, { sub: 'user-1', exp: 2_000_000_000 }, key.privateKey);
 */
export function signJWT(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | undefined): string {
  const alg = header.alg;
  if (typeof alg !== 'string') throw new ConfigError('signJWT: `header.alg` must be a string');
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  if (alg === 'none') return `${signingInput}.`;
  if (key === undefined) throw new ConfigError(`signJWT: a key is required for "${alg}"`);
  return `${signingInput}.${signBytes(alg, key, Buffer.from(signingInput)).toString('base64url')}`;
}

/** The base64url encoding of a value's JSON text: one JWS segment. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signBytes(alg: string, key: KeyObject, data: Buffer): Buffer {
  const match = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
  if (match === null) throw new ConfigError(`signJWT: unsupported \`alg\` "${alg}"`);
  const [, family, bits] = match;
  const hash = `sha${bits}`;
  if (family === 'HS') return createHmac(hash, hmacSecret(key)).update(data).digest();
  try {
    if (family === 'PS') {
      return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    }
    if (family === 'ES') return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
    return sign(hash, data, key);
  } catch (err) {
    throw new ConfigError(`signJWT: the key cannot sign "${alg}"`, { cause: err });
  }
}

function hmacSecret(key: KeyObject): KeyObject | string {
  if (key.type === 'secret') return key;
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return publicKey.export({ type: 'spki', format: 'pem' }) as string;
}
