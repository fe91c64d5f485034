import { createTestKey, type TestKey, type TestKeyAlgorithm } from '../../lib/testing/index.js';

export type { TestKey };

/** Generates a key pair with the test kit; RSA keys are 2048 bits unless `modulusLength` says otherwise. */
export function makeKey(kid: string, alg: TestKeyAlgorithm = 'RS256', { modulusLength = 2048 } = {}): TestKey {
  return createTestKey({ kid, alg, modulusLength });
}

const cache = new Map<string, TestKey>();

/** A key made once per test file and reused: RSA generation is slow. */
export function sharedKey(kid: string, alg: TestKeyAlgorithm = 'RS256'): TestKey {
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
