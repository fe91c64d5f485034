import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyKey, isVerificationJWK, keyFitsAlg, selectVerificationJWKs } from '../lib/key-policy.js';
import { createVerifier } from '../lib/index.js';
import { startIdpServer } from './helpers/idp-server.js';
import { makeKey, sharedKey } from './helpers/keys.js';
import { reasonOf } from './helpers/outcome.js';
import { defaultClaims, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

// jwks-rsa already drops some of these keys when it imports them; these tests pin bearer-guard's
// own filter, which runs first and must not depend on that.
const K1 = sharedKey('k1');
const EC = sharedKey('e1', 'ES256');
const RSA_PRIVATE = K1.privateKey.export({ format: 'jwk' });

describe('isVerificationJWK', () => {
  it.each<[string, unknown]>([
    ['a symmetric (oct) key', { kty: 'oct', k: 'c2VjcmV0', kid: 'h1' }],
    ['an oct key without k', { kty: 'oct', kid: 'h1' }],
    ['a private RSA JWK', { ...RSA_PRIVATE, kid: 'k1' }],
    ...(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const).map((member): [string, unknown] => [
      `a public JWK carrying "${member}"`,
      { ...K1.jwk, [member]: 'AQAB' },
    ]),
    ['a key with use enc', { ...K1.jwk, use: 'enc' }],
    ['a key with an unknown use', { ...K1.jwk, use: 'signature' }],
    ['a key with key_ops [encrypt]', { ...K1.jwk, key_ops: ['encrypt'] }],
    ['a key with key_ops [sign]', { ...K1.jwk, key_ops: ['sign'] }],
    ['a key with key_ops that is not an array', { ...K1.jwk, key_ops: 'verify' }],
    ['a key with a non-string kid', { ...K1.jwk, kid: 7 }],
    ['a key with an empty kid', { ...K1.jwk, kid: '' }],
    ['a key with a non-string alg', { ...K1.jwk, alg: ['RS256'] }],
    ['a key without kty', { ...K1.jwk, kty: undefined }],
    ['a string', 'RS256'],
    ['null', null],
    ['an array', [K1.jwk]],
  ])('refuses %s', (_label, jwk) => {
    expect(isVerificationJWK(jwk)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['an RSA public JWK with use sig', K1.jwk],
    ['an EC public JWK', EC.jwk],
    ['a JWK without use, kid or alg', { kty: K1.jwk.kty, n: K1.jwk.n, e: K1.jwk.e }],
    ['a JWK with key_ops including verify', { ...K1.jwk, key_ops: ['verify', 'sign'] }],
  ])('accepts %s', (_label, jwk) => {
    expect(isVerificationJWK(jwk)).toBe(true);
  });
});

describe('selectVerificationJWKs', () => {
  it('keeps the first maxEntries keys that pass, skipping refused ones before counting', () => {
    const oct = { kty: 'oct', k: 'c2VjcmV0' };
    const selected = selectVerificationJWKs([oct, K1.jwk, EC.jwk, sharedKey('k2').jwk], 2);
    expect(selected).toEqual([K1.jwk, EC.jwk]);
  });

  it('counts only keys that could verify a supported alg, so weak or foreign keys listed first push no usable key out', () => {
    const weak = makeKey('weak', 'RS256', { modulusLength: 1024 }).jwk;
    const ed25519 = { ...createPublicKey(generateKeyPairSync('ed25519').privateKey).export({ format: 'jwk' }), kid: 'ed' };
    const secp256k1 = { ...generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' }), kid: 'k1-curve' };
    const stub = { kty: 'RSA', kid: 'stub' };
    expect(selectVerificationJWKs([weak, ed25519, secp256k1, stub, K1.jwk, EC.jwk], 2)).toEqual([K1.jwk, EC.jwk]);
  });
});

describe('classifyKey', () => {
  it('refuses an RSA key under 2048 bits', () => {
    expect(classifyKey(makeKey('weak', 'RS256', { modulusLength: 1024 }).publicKey)).toBeUndefined();
  });

  it('refuses a private key', () => {
    expect(classifyKey(K1.privateKey)).toBeUndefined();
  });

  /** K1's modulus with another public exponent, as a JWKS could publish it. */
  const withExponent = (e: string) => createPublicKey({ key: { kty: 'RSA', n: K1.jwk.n as string, e }, format: 'jwk' });

  it.each([
    ['1, which makes any "signature" verify', 'AQ'],
    ['2, an even exponent', 'Ag'],
    ['2³² + 1, past any sound exponent', 'AQAAAAE'],
  ])('refuses an RSA key whose public exponent is %s', (_label, e) => {
    expect(classifyKey(withExponent(e))).toBeUndefined();
  });

  it.each([['3', 'Aw'], ['65537', 'AQAB']])('accepts an RSA exponent of %s', (_label, e) => {
    expect(classifyKey(withExponent(e))).toBe('RSA');
  });

  it('lets no token through that was "signed" without a private key against an e = 1 key', async () => {
    const server = await startIdpServer({ keys: [] });
    try {
      server.setJWKS({ keys: [{ kty: 'RSA', n: K1.jwk.n, e: 'AQ', kid: 'e1', alg: 'RS256', use: 'sig' }] });
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'e1', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ ...defaultClaims(), sub: 'forged' })).toString('base64url');
      // With e = 1, s^e mod n = s: the "signature" is the EMSA-PKCS1-v1_5 encoding of the hash itself.
      const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(`${header}.${payload}`).digest()]);
      const encoded = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
      const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: server.jwksUri, allowHttpLoopback: true });
      expect(await reasonOf(verifier.verify(`${header}.${payload}.${encoded.toString('base64url')}`))).toBe('key_not_found');
    } finally {
      await server.close();
    }
  });

  it.each([
    ['a 2048-bit RSA key', K1.publicKey, 'RSA'],
    ['a P-256 key', EC.publicKey, 'EC P-256'],
    ['a P-384 key', sharedKey('e2', 'ES384').publicKey, 'EC P-384'],
    ['a P-521 key', sharedKey('e3', 'ES512').publicKey, 'EC P-521'],
    ['a secp256k1 key', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, 'other'],
    ['an Ed25519 key', createPublicKey(generateKeyPairSync('ed25519').privateKey), 'other'],
  ])('classifies %s as %s', (_label, key, family) => {
    expect(classifyKey(key)).toBe(family);
  });
});

describe('keyFitsAlg', () => {
  it.each([
    ['RSA', undefined, 'RS256', true],
    ['RSA', undefined, 'PS512', true],
    ['RSA', 'RS256', 'RS256', true],
    ['RSA', 'RS256', 'RS384', false],
    ['RSA', undefined, 'ES256', false],
    ['RSA', undefined, 'HS256', false],
    ['RSA', undefined, 'none', false],
    ['EC P-256', undefined, 'ES256', true],
    ['EC P-256', undefined, 'ES384', false],
    ['EC P-384', undefined, 'ES384', true],
    ['EC P-521', 'ES512', 'ES512', true],
    ['EC P-256', undefined, 'RS256', false],
    ['other', undefined, 'EdDSA', false],
    ['RSA', undefined, 'toString', false],
  ] as const)('%s key with JWK alg %s fits a %s token: %s', (family, jwkAlg, alg, fits) => {
    expect(keyFitsAlg(family, jwkAlg, alg)).toBe(fits);
  });
});
