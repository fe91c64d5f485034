import { createHash, generateKeyPairSync, KeyObject, type JsonWebKey } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Algorithms a test key can be made for: the asymmetric ones bearer-guard verifies. */
export type TestKeyAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** A signing key for tests: the private half signs, `jwk` is what a JWKS publishes. */
export interface TestKey {
  /** The key id, in the JWK and in the header of tokens it signs. */
  readonly kid: string;
  /** The algorithm the key signs with, also its JWK `alg`. */
  readonly alg: TestKeyAlgorithm;
  /** Signs tokens; never published. */
  readonly privateKey: KeyObject;
  /** What a verifier checks signatures with. */
  readonly publicKey: KeyObject;
  /** The public JWK with `kid`, `alg` and `use: 'sig'`, as a JWKS endpoint serves it. */
  readonly jwk: JsonWebKey & { kid: string; alg: string; use: string };
}

/** Options of `createTestKey`. */
export interface CreateTestKeyOptions {
  /** Default `'RS256'`. */
  alg?: TestKeyAlgorithm;
  /** Default: the key's RFC 7638 JWK thumbprint, so equal keys get equal ids. */
  kid?: string;
  /** RSA modulus in bits; ignored for EC keys. Default 2048 (bearer-guard refuses smaller ones). */
  modulusLength?: number;
}

const CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
/** Every `TestKeyAlgorithm`, for checking an `alg` option. */
export const TEST_KEY_ALGORITHMS: ReadonlySet<string> = new Set<TestKeyAlgorithm>(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);

/**
 * Generates a key pair for signing test tokens: RSA for RS and PS algorithms, EC on the
 * algorithm's curve (P-256, P-384, P-521) for ES ones. Synchronous: a 2048-bit RSA key takes
 * tens of milliseconds, so make keys once per test file where you can.
 * @throws ConfigError for an unsupported `alg`
 * @example
 * const key = createTestKey({ alg: 'ES256', kid: 'ec-1' });
 */
export function createTestKey(options: CreateTestKeyOptions = {}): TestKey {
  const alg = options.alg ?? 'RS256';
  checkTestKeyAlgorithm('createTestKey', alg);
  const curve = CURVES[alg];
  const { privateKey, publicKey } = curve === undefined
    ? generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
    : generateKeyPairSync('ec', { namedCurve: curve });
  const exported = publicKey.export({ format: 'jwk' });
  const kid = options.kid ?? jwkThumbprint(exported);
  return Object.freeze({ kid, alg, privateKey, publicKey, jwk: Object.freeze({ ...exported, kid, alg, use: 'sig' }) });
}

/**
 * Throws unless `alg` is a `TestKeyAlgorithm`.
 * @param where the public function name that starts the message
 */
export function checkTestKeyAlgorithm(where: string, alg: unknown): asserts alg is TestKeyAlgorithm {
  if (typeof alg !== 'string' || !TEST_KEY_ALGORITHMS.has(alg)) {
    throw new ConfigError(`${where}: \`alg\` must be one of ${[...TEST_KEY_ALGORITHMS].join(', ')}`);
  }
}

/**
 * Whether `value` has the shape `createTestKey` returns. Checked by shape, not by identity, so
 * that a key made by the CommonJS build is accepted by the ESM one (and a hand-built one works).
 */
export function isTestKey(value: unknown): value is TestKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Partial<Record<keyof TestKey, unknown>>;
  return typeof key.kid === 'string' && key.kid !== ''
    && typeof key.alg === 'string' && TEST_KEY_ALGORITHMS.has(key.alg)
    && key.privateKey instanceof KeyObject && key.privateKey.type === 'private'
    && key.publicKey instanceof KeyObject && key.publicKey.type === 'public'
    && typeof key.jwk === 'object' && key.jwk !== null;
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order, base64url. */
function jwkThumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
