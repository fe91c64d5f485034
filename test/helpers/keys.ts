import { generateKeyPairSync, type KeyObject, type JsonWebKey } from 'node:crypto';

/** A signing key for tests: the private half signs, `jwk` is what a JWKS publishes. */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public JWK with `kid`, `alg` and `use: 'sig'`. */
  jwk: JsonWebKey & { kid: string; alg: string; use: string };
}

type KeyAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'ES512';

const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Generates a key pair; RSA keys are 2048 bits unless `modulusLength` says otherwise. */
export function makeKey(kid: string, alg: KeyAlg = 'RS256', { modulusLength = 2048 } = {}): TestKey {
  const curve = CURVES[alg];
  const { privateKey, publicKey } = curve
    ? generateKeyPairSync('ec', { namedCurve: curve })
    : generateKeyPairSync('rsa', { modulusLength });
  return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

const cache = new Map<string, TestKey>();

/** A key made once per test file and reused: RSA generation is slow. */
export function sharedKey(kid: string, alg: KeyAlg = 'RS256'): TestKey {
  let key = cache.get(`${kid}/${alg}`);
  if (!key) {
    key = makeKey(kid, alg);
    cache.set(`${kid}/${alg}`, key);
  }
  return key;
}

/** `{ keys: [...] }` as a JWKS endpoint serves it. */
export function jwksOf(...keys: TestKey[]): { keys: TestKey['jwk'][] } {
  return { keys: keys.map((key) => key.jwk) };
}
