import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, decodeJWT } from '../lib/index.js';
import { BAD_TOKEN_KINDS, createTestIssuer, createTestKey, type TestFault, type TestIssuer } from '../lib/testing/index.js';

// How the test kit refuses its callers' mistakes: at the call, with a ConfigError naming the
// mistake, never later inside the server or as a token that passes for the wrong reason.

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

describe('issuer.setFault()', () => {
  it.each([
    ['a status fault without a status', { kind: 'status' }, /`status` of a 'status' fault must be an integer ≥ 200 and ≤ 599/],
    ['a status given as a string', { kind: 'status', status: '503' }, /`status` .* must be an integer/],
    ['an interim 1xx status', { kind: 'status', status: 100 }, /`status` .* ≥ 200/],
    ['a Retry-After that is no header value', { kind: 'status', status: 503, retryAfter: '1\r\nx: y' }, /`retryAfter`/],
    ['a redirect without a location', { kind: 'redirect' }, /`location` of a 'redirect' fault is required/],
    ['an unknown kind', { kind: 'explode' }, /unknown fault kind "explode" \(one of status, reset, hang, delay, drip, garbage, huge, redirect\)/],
    ['a fault without a kind', { status: 503 }, /unknown fault kind "undefined"/],
    ['a delay without ms', { kind: 'delay' }, /`ms` of a 'delay' fault must be a number ≥ 0 and ≤ 2147483647/],
    ['a delay of 2³¹ ms, which Node would fire at once', { kind: 'delay', ms: 2 ** 31 }, /`ms` .* ≤ 2147483647/],
    ['a drip of 0 bytes per second', { kind: 'drip', bytesPerSecond: 0 }, /`bytesPerSecond` .* > 0/],
    ['a huge body without a size', { kind: 'huge' }, /`bytes` of a 'huge' fault must be an integer ≥ 0/],
    ['a misspelt member', { kind: 'status', stauts: 503 }, /unknown option `stauts` \(did you mean `status`\?\)/],
    ['a member another kind has', { kind: 'reset', ms: 10 }, /unknown option `ms`/],
    ['no object at all', 'reset', /the fault must be an object with a `kind`, or null/],
  ])('refuses %s at the call', (_label, fault, message) => {
    expect(() => issuer.setFault(fault as TestFault, 'jwks')).toThrow(ConfigError);
    expect(() => issuer.setFault(fault as TestFault, 'jwks')).toThrow(/^issuer\.setFault: /);
    expect(() => issuer.setFault(fault as TestFault, 'jwks')).toThrow(message);
  });

  it('leaves the fault already set when it refuses a new one', async () => {
    const failing = await createTestIssuer();
    try {
      failing.setFault({ kind: 'status', status: 429 }, 'jwks');
      expect(() => failing.setFault({ kind: 'status' } as TestFault, 'jwks')).toThrow(ConfigError);
      expect((await fetch(failing.jwksUri)).status).toBe(429);
    } finally {
      await failing.close();
    }
  });

  it('accepts the longest delay Node honours', () => {
    expect(() => issuer.setFault({ kind: 'delay', ms: 2 ** 31 - 1 }, 'userinfo')).not.toThrow();
    issuer.setFault(null);
  });
});

describe('issuer.badToken()', () => {
  it('refuses an unknown kind, naming the valid ones', () => {
    expect(() => issuer.badToken('expird' as never)).toThrow(ConfigError);
    expect(() => issuer.badToken('expird' as never)).toThrow(`issuer.badToken: unknown kind "expird" (one of ${BAD_TOKEN_KINDS.join(', ')})`);
  });
});

describe('issuer.sign() and issuer.issueOpaque() options', () => {
  it('sign() refuses an unknown option with a did-you-mean hint', () => {
    expect(() => issuer.sign({}, { expiresin: -60 } as never)).toThrow(ConfigError);
    expect(() => issuer.sign({}, { expiresin: -60 } as never)).toThrow('issuer.sign: unknown option `expiresin` (did you mean `expiresIn`?)');
  });

  it('issueOpaque() refuses an unknown option with a did-you-mean hint', () => {
    expect(() => issuer.issueOpaque({}, { userInfo: {} } as never)).toThrow('issuer.issueOpaque: unknown option `userInfo` (did you mean `userinfo`?)');
  });

  it('sign() still takes every documented option', () => {
    const key = issuer.currentKey;
    const token = issuer.sign({}, { expiresIn: 60, notBefore: 0, kid: key.kid, alg: key.alg, typ: 'at+jwt', header: { x5t: 'a' }, signingKey: key.privateKey });
    expect(decodeJWT(token, { complete: true }).header).toEqual({ alg: key.alg, typ: 'at+jwt', kid: key.kid, x5t: 'a' });
  });
});

describe('createTestIssuer() options', () => {
  it.each([
    ['/introspect', 'introspection'],
    ['/userinfo', 'userinfo'],
    ['/.well-known/openid-configuration', 'discovery'],
    ['/.well-known/oauth-authorization-server', 'discovery'],
  ])('refuses jwksPath %s, the path of the %s endpoint', async (jwksPath, endpoint) => {
    await expect(createTestIssuer({ jwksPath })).rejects.toThrow(ConfigError);
    await expect(createTestIssuer({ jwksPath })).rejects.toThrow(`createTestIssuer: \`jwksPath\` "${jwksPath}" is already the path of the ${endpoint} endpoint`);
  });

  it('refuses a jwksPath equal to the discovery path under issuerPath', async () => {
    await expect(createTestIssuer({ issuerPath: '/tenant-1', jwksPath: '/tenant-1/.well-known/openid-configuration' })).rejects.toThrow(/`jwksPath`.*discovery endpoint/);
  });

  it('takes /introspect as jwksPath when introspection is off', async () => {
    const bare = await createTestIssuer({ introspection: false, jwksPath: '/introspect' });
    try {
      expect(await (await fetch(bare.jwksUri)).json()).toEqual({ keys: [bare.currentKey.jwk] });
    } finally {
      await bare.close();
    }
  });

  it('refuses a slowResponseMs above 2³¹ − 1, which Node would fire at once', async () => {
    await expect(createTestIssuer({ slowResponseMs: 2 ** 31 })).rejects.toThrow('createTestIssuer: `slowResponseMs` must be a number ≥ 0 and ≤ 2147483647');
  });

  it.each([
    ['an object that is not a key', [{ kid: 'k1' }], 'createTestIssuer: `keys[0]` is not a key from createTestKey()'],
    ['a key with its private half missing', [createTestKey(), { ...createTestKey(), privateKey: undefined }], 'createTestIssuer: `keys[1]` is not a key from createTestKey()'],
    ['an empty list', [], 'createTestIssuer: `keys` must be a non-empty array of keys from createTestKey()'],
  ])('refuses keys holding %s', async (_label, keys, message) => {
    await expect(createTestIssuer({ keys: keys as never })).rejects.toThrow(message);
  });

  it('reports an unsupported alg as createTestIssuer\'s mistake', async () => {
    await expect(createTestIssuer({ alg: 'HS256' as never })).rejects.toThrow(/^createTestIssuer: `alg` must be one of RS256, /);
  });
});
