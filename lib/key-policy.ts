import type { KeyObject } from 'node:crypto';
import { isPlainObject } from './internal/safe-json.js';

/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 requires 2048 for RS*). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** JWK members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** What a token's `alg` needs from a key: an RSA key, or an EC key on one curve. */
export type KeyFamily = 'RSA' | 'EC P-256' | 'EC P-384' | 'EC P-521' | 'other';

const ALG_FAMILY: Readonly<Record<string, KeyFamily>> = {
  RS256: 'RSA', RS384: 'RSA', RS512: 'RSA',
  PS256: 'RSA', PS384: 'RSA', PS512: 'RSA',
  ES256: 'EC P-256', ES384: 'EC P-384', ES512: 'EC P-521',
};

const CURVE_FAMILY: Readonly<Record<string, KeyFamily>> = {
  prime256v1: 'EC P-256',
  secp384r1: 'EC P-384',
  secp521r1: 'EC P-521',
};

/**
 * The JWKs of a JWKS document that may verify signatures, at most `maxEntries` of them:
 * never symmetric (`kty: 'oct'`) or private material, `use` absent or `sig` (RFC 7517 §4.2),
 * `key_ops` absent or including `verify` (§4.3), `kid` and `alg` absent or non-empty strings.
 * Runs on the raw document before jwks-rsa imports anything, so refused keys cost nothing.
 */
export function selectVerificationJWKs(keys: readonly unknown[], maxEntries: number): Record<string, unknown>[] {
  const selected: Record<string, unknown>[] = [];
  for (const jwk of keys) {
    if (selected.length >= maxEntries) break;
    // Only keys that could pass the checks after import count against `maxEntries`: a set that
    // lists weak or foreign keys first must not push its usable key out.
    if (isVerificationJWK(jwk) && mayFitAnAlgorithm(jwk)) selected.push(jwk);
  }
  return selected;
}

/** Smallest `n` of a `MIN_RSA_MODULUS_BITS` modulus in base64url (RFC 7518 §6.3.1.1: no leading zero octets). */
const MIN_RSA_N_LENGTH = Math.ceil((MIN_RSA_MODULUS_BITS / 8) * 4 / 3);
const JWK_CURVES = new Set(['P-256', 'P-384', 'P-521']);

/**
 * What the raw JWK can tell before any import: RSA with a modulus long enough, or EC on a curve
 * some supported `alg` uses. Anything else (OKP, secp256k1, short RSA) could never verify a
 * token here; `classifyKey` still decides after import.
 */
function mayFitAnAlgorithm(jwk: Record<string, unknown>): boolean {
  if (jwk.kty === 'RSA') return typeof jwk.n === 'string' && jwk.n.length >= MIN_RSA_N_LENGTH;
  return jwk.kty === 'EC' && typeof jwk.crv === 'string' && JWK_CURVES.has(jwk.crv);
}

/** True for a public JWK whose `use` and `key_ops` allow signature verification. */
export function isVerificationJWK(jwk: unknown): jwk is Record<string, unknown> {
  if (!isPlainObject(jwk) || typeof jwk.kty !== 'string' || jwk.kty === 'oct') return false;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return false;
  return isOptionalName(jwk.kid) && isOptionalName(jwk.alg);
}

/**
 * The family of an imported public key, or `undefined` when policy refuses it (RSA below
 * `MIN_RSA_MODULUS_BITS` or with an unsound exponent, or not a public key).
 */
export function classifyKey(key: KeyObject): KeyFamily | undefined {
  if (key.type !== 'public') return undefined;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    return (details?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS && isSoundPublicExponent(details?.publicExponent) ? 'RSA' : undefined;
  }
  if (key.asymmetricKeyType === 'ec') return CURVE_FAMILY[details?.namedCurve ?? ''] ?? 'other';
  return 'other';
}

/**
 * True when a key of this family (and this JWK `alg`, when the JWK has one) may verify a token
 * signed with `alg`: RS and PS need RSA, ES256/384/512 need EC on P-256/P-384/P-521 (RFC 7518 §3.1).
 */
export function keyFitsAlg(family: KeyFamily, jwkAlg: string | undefined, alg: string): boolean {
  if (jwkAlg !== undefined && jwkAlg !== alg) return false;
  return family !== 'other' && ALG_FAMILY[alg] === family;
}

/**
 * An RSA public exponent that makes verification mean something: odd, at least 3 (RFC 8017
 * §3.1) and at most 2³² (NIST SP 800-56B asks for 2¹⁶ < e < 2²⁵⁶; every real key uses 65537).
 * With e = 1, "verifying" a signature does no arithmetic, so anyone could forge one; a huge
 * exponent makes every check cost what the JWKS's author chose.
 */
function isSoundPublicExponent(exponent: bigint | undefined): boolean {
  return exponent !== undefined && exponent >= 3n && exponent <= 2n ** 32n && exponent % 2n === 1n;
}

function isOptionalName(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && value !== '');
}
