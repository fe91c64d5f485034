import { describe, expect, it } from 'vitest';
import { ConfigError, createJWKSClient, createVerifier, verifyToken } from '../lib/index.js';
import type { VerifyTokenOptions } from '../lib/index.js';

const BASE = { issuer: 'https://issuer.test', audience: 'https://api.test', jwksUri: 'https://issuer.test/jwks' };

function configError(options: unknown, create: (o: VerifyTokenOptions) => unknown = verifyToken): string {
  try {
    create(options as VerifyTokenOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('option checks at construction', () => {
  it('accepts a minimal configuration', () => {
    expect(typeof verifyToken(BASE)).toBe('function');
  });

  it.each([
    ['a missing issuer', { audience: 'a', jwksUri: BASE.jwksUri }, 'verifyToken: `issuer` is required'],
    ['a missing audience', { issuer: BASE.issuer, jwksUri: BASE.jwksUri }, 'verifyToken: `audience` is required'],
    ['an empty audience array', { ...BASE, audience: [] }, '`audience` is required'],
    ['an unknown option', { ...BASE, audiance: 'x' }, 'verifyToken: unknown option `audiance` (did you mean `audience`?)'],
    ['an http jwksUri off loopback', { ...BASE, jwksUri: 'http://issuer.test/jwks' }, '`jwksUri` must use https:'],
    ['an http loopback jwksUri without the opt-in', { ...BASE, jwksUri: 'http://127.0.0.1:9/jwks' }, 'set `allowHttpLoopback: true`'],
    ['a jwksUri that is not a URL', { ...BASE, jwksUri: 'jwks.json' }, '`jwksUri` is not a valid URL'],
    ['alg none', { ...BASE, algorithms: ['none'] }, '`algorithms` must not contain "none"'],
    ['an HMAC algorithm', { ...BASE, algorithms: ['HS256'] }, '`algorithms` must not contain "HS256"'],
    ['an unsupported algorithm', { ...BASE, algorithms: ['RS1'] }, 'unsupported "RS1"'],
    ['a negative clockTolerance', { ...BASE, clockTolerance: -1 }, '`clockTolerance` must be a number of seconds ≥ 0 and ≤ 600'],
    ['a string clockTolerance', { ...BASE, clockTolerance: '5' }, '`clockTolerance` must be a number of seconds'],
    // Milliseconds given for seconds would accept every expired token for another 83 minutes.
    ['a clockTolerance in milliseconds', { ...BASE, clockTolerance: 5000 }, '`clockTolerance` must be a number of seconds ≥ 0 and ≤ 600'],
    ['a zero maxTokenAge', { ...BASE, maxTokenAge: 0 }, '`maxTokenAge` must be a number of seconds ≥ 1'],
    ['an unknown typ policy', { ...BASE, typ: 'JWT' }, "`typ` must be 'at+jwt'"],
    ['a bare-name issuer without jwksUri', { issuer: 'auth.sophon.xyz', audience: 'partner' }, '"auth.sophon.xyz" is not a URL, so its keys cannot be discovered: give `jwksUri`'],
    ['issuer next to issuers', { ...BASE, issuers: [BASE] }, '`issuer` belongs inside each `issuers` entry'],
    // Dropped silently, these would fail open: JWTs checked locally where introspection was asked for.
    ['introspection next to issuers', { issuers: [BASE], introspection: { clientId: 'api', clientSecret: 's' } }, 'verifyToken: `introspection` belongs inside each `issuers` entry'],
    ['userinfo next to issuers', { issuers: [BASE], userinfo: true }, 'verifyToken: `userinfo` belongs inside each `issuers` entry'],
    ['tokenFormat next to issuers', { issuers: [BASE], tokenFormat: 'opaque' }, 'verifyToken: `tokenFormat` belongs inside each `issuers` entry'],
    ['a jwksClient that is a URL', { issuer: BASE.issuer, audience: BASE.audience, jwksClient: BASE.jwksUri }, 'verifyToken: `jwksClient` must come from `createJWKSClient()`'],
    ['a look-alike jwksClient', { issuer: BASE.issuer, audience: BASE.audience, jwksClient: { jwksUri: BASE.jwksUri, peekKeys: () => undefined } }, '`jwksClient` must come from `createJWKSClient()`'],
    ['an empty issuers list', { issuers: [] }, '`issuers` must be a non-empty array'],
    ['a duplicate issuer', { issuers: [BASE, BASE] }, 'lists "https://issuer.test" twice'],
    ['an unknown key in an issuers entry', { issuers: [{ ...BASE, jwks_uri: 'x' }] }, 'verifyToken: `issuers[0]`: unknown option `jwks_uri`'],
    ['a bad tokenCache', { ...BASE, tokenCache: { maxEntries: 0 } }, '`tokenCache.maxEntries` must be an integer ≥ 1'],
    ['a fractional tokenCache size', { ...BASE, tokenCache: { maxEntries: 2.5 } }, '`tokenCache.maxEntries` must be an integer ≥ 1'],
    ['a fractional maxTokenLength', { ...BASE, maxTokenLength: 100.5 }, '`maxTokenLength` must be an integer ≥ 16'],
    ['allowQueryToken with getToken', { ...BASE, getToken: (): undefined => undefined, allowQueryToken: true }, '`allowQueryToken` has no effect with `getToken`'],
    ['allowBodyToken with getToken', { ...BASE, getToken: (): undefined => undefined, allowBodyToken: true }, '`allowBodyToken` has no effect with `getToken`'],
    // JWKS cache settings are named as written here, not as createJWKSClient's (which the caller never called).
    ['a bad jwks setting', { ...BASE, jwksUri: 'https://issuer.test/jwks', jwks: { timeout: -1 } }, 'verifyToken: `jwks.timeout` must be a number > 0 and ≤ 2147483647'],
    ['a null jwks setting', { ...BASE, jwksUri: 'https://issuer.test/jwks', jwks: { cooldown: null } }, 'verifyToken: `jwks.cooldown` must be a number > 0'],
    ['a bad jwks setting of an issuers entry', { issuers: [BASE, { ...BASE, issuer: 'https://b.test', jwks: { cacheMaxEntries: 1.5 } }] }, 'verifyToken: `issuers[1]`: `jwks.cacheMaxEntries` must be an integer ≥ 1'],
    ['an unknown jwks setting', { ...BASE, jwks: { maxAge: 1 } }, 'verifyToken: `jwks`: unknown option `maxAge`'],
    ['jwks cache turned off', { ...BASE, jwks: { cache: false } }, 'verifyToken: `jwks.cache` must be true or absent'],
    ['a non-function hook', { ...BASE, onRejected: 'log' }, '`onRejected` must be a function'],
    // RFC 6750 §3: refused at startup rather than rewritten in every challenge.
    ['a realm with a quote', { ...BASE, realm: 'orders "v2"' }, '`realm` may hold printable ASCII only'],
    ['a realm with a line break', { ...BASE, realm: 'a\r\nX-Injected: 1' }, '`realm` may hold printable ASCII only'],
    ['a non-ASCII realm', { ...BASE, realm: 'café' }, '`realm` may hold printable ASCII only'],
    ['a non-boolean credentialsRequired', { ...BASE, credentialsRequired: 'no' }, '`credentialsRequired` must be true or false'],
  ])('throws ConfigError for %s', (_label, options, message) => {
    expect(configError(options)).toContain(message);
  });

  it('names createVerifier in messages from createVerifier', () => {
    expect(configError({ audience: 'x' }, createVerifier)).toMatch(/^createVerifier: `issuer` is required/);
  });

  it('takes the Express-only options in createVerifier, so one options object serves both', () => {
    const options = { ...BASE, realm: 'orders', credentialsRequired: false, getToken: (): undefined => undefined, allowQueryToken: false };
    expect(() => createVerifier(options)).not.toThrow();
    expect(() => verifyToken(options)).not.toThrow();
  });

  it('takes a jwksClient from createJWKSClient', () => {
    const jwksClient = createJWKSClient({ jwksUri: BASE.jwksUri });
    expect(() => verifyToken({ issuer: BASE.issuer, audience: BASE.audience, jwksClient })).not.toThrow();
  });

  it('applies top-level policy as defaults for each issuers entry', async () => {
    expect(() => verifyToken({ algorithms: ['ES256'], issuers: [BASE, { ...BASE, issuer: 'https://b.test', algorithms: ['PS256'] }] })).not.toThrow();
  });
});
