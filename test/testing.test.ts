import { execFile } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createVerifier, decodeJWT, verifyToken, type VerifyTokenOptions } from '../lib/index.js';
import {
  BAD_TOKEN_KINDS,
  BAD_TOKEN_REASONS,
  createTestIssuer,
  createTestKey,
  signJWT,
  type OutageMode,
  type TestIssuer,
} from '../lib/testing/index.js';
import { createApp } from './helpers/app.js';
import { rejection } from './helpers/outcome.js';

const root = join(__dirname, '..');
const nowSec = (): number => Math.floor(Date.now() / 1000);

function verifierFor(issuer: TestIssuer, options: Partial<VerifyTokenOptions> = {}): ReturnType<typeof createVerifier> {
  return createVerifier({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true, ...options });
}

// JSON read back from the kit's endpoints, shape-checked by each assertion.
async function getJSON(url: string, init?: RequestInit): Promise<any> {
  return (await fetch(url, init)).json();
}

function basic(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: each part is form-encoded before base64.
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function introspect(issuer: TestIssuer, body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const { clientId, clientSecret } = issuer.introspectionClient!;
  return fetch(issuer.introspectionEndpoint!, {
    method: 'POST',
    headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

describe('createTestIssuer', () => {
  it('serves OIDC discovery metadata that lists its JWKS, introspection and userinfo endpoints', async () => {
    const metadata = await getJSON(`${issuer.issuer}/.well-known/openid-configuration`);
    expect(metadata).toMatchObject({
      issuer: issuer.issuer,
      jwks_uri: issuer.jwksUri,
      introspection_endpoint: issuer.introspectionEndpoint,
      userinfo_endpoint: issuer.userinfoEndpoint,
    });
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the same metadata at the RFC 8414 location', async () => {
    const metadata = await getJSON(`${issuer.url}/.well-known/oauth-authorization-server`);
    expect(metadata.issuer).toBe(issuer.issuer);
  });

  it('publishes one RS256 public key by default', async () => {
    const jwks = await getJSON(issuer.jwksUri);
    expect(jwks.keys).toEqual([issuer.currentKey.jwk]);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: issuer.currentKey.kid });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('answers 404 for other paths and 405 for a POST to the JWKS', async () => {
    expect((await fetch(`${issuer.url}/nope`)).status).toBe(404);
    expect((await fetch(issuer.jwksUri, { method: 'POST' })).status).toBe(405);
  });

  it('puts the issuer under issuerPath and the JWKS at jwksPath', async () => {
    const tenant = await createTestIssuer({ issuerPath: '/tenant-1', jwksPath: '/openid/jwks.json' });
    try {
      expect(tenant.issuer).toBe(`${tenant.url}/tenant-1`);
      expect(tenant.jwksUri).toBe(`${tenant.url}/openid/jwks.json`);
      await expect(verifierFor(tenant).verify(tenant.sign())).resolves.toMatchObject({ source: 'jwt' });
    } finally {
      await tenant.close();
    }
  });

  it('sets metadata members over the generated ones, removing those set to undefined', async () => {
    issuer.setMetadata({ issuer: 'https://other.example', userinfo_endpoint: undefined });
    try {
      const metadata = await getJSON(`${issuer.issuer}/.well-known/openid-configuration`);
      expect(metadata).toMatchObject({ issuer: 'https://other.example', jwks_uri: issuer.jwksUri });
      expect(metadata).not.toHaveProperty('userinfo_endpoint');
    } finally {
      issuer.setMetadata({});
    }
    expect((await getJSON(`${issuer.issuer}/.well-known/openid-configuration`)).issuer).toBe(issuer.issuer);
  });

  it('serves any JSON as the JWKS until setKeys()', async () => {
    const custom = await createTestIssuer();
    try {
      custom.setJWKS({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] });
      expect(await getJSON(custom.jwksUri)).toEqual({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] });
      expect((await rejection(verifierFor(custom).verify(custom.sign()))).reason).toBe('key_not_found');
      const key = createTestKey({ kid: 'mine' });
      custom.setKeys(key);
      expect(await getJSON(custom.jwksUri)).toEqual({ keys: [key.jwk] });
      expect(decodeJWT(custom.sign(), { complete: true }).header.kid).toBe('mine');
    } finally {
      await custom.close();
    }
  });

  it('refuses an unknown option with a ConfigError naming it', async () => {
    await expect(createTestIssuer({ audiance: 'x' } as never)).rejects.toThrow(ConfigError);
    await expect(createTestIssuer({ audiance: 'x' } as never)).rejects.toThrow(/`audiance`.*`audience`/);
  });
});

describe('issuer.sign()', () => {
  it('mints a token that verifyToken accepts with only issuer, audience and allowHttpLoopback', async () => {
    const app = createApp([verifyToken({ issuer: issuer.issuer, audience: 'https://api.example', allowHttpLoopback: true })]);
    const res = await request(app).get('/me').auth(issuer.sign({ sub: 'user-42' }), { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body.payload.sub).toBe('user-42');
  });

  it('sets iss, sub, aud, iat = now, exp in 5 minutes and a jti by default', () => {
    const { header, payload } = decodeJWT(issuer.sign(), { complete: true });
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: issuer.currentKey.kid });
    expect(payload).toMatchObject({ iss: issuer.issuer, sub: 'test-user', aud: 'https://api.example' });
    expect(Math.abs(payload.iat! - nowSec())).toBeLessThanOrEqual(1);
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('merges claims over the defaults and removes those set to undefined', () => {
    const payload = decodeJWT(issuer.sign({ scope: 'read write', jti: undefined, aud: ['a', 'b'] }));
    expect(payload).toMatchObject({ scope: 'read write', aud: ['a', 'b'] });
    expect(payload).not.toHaveProperty('jti');
  });

  it('applies expiresIn and notBefore relative to now', async () => {
    const payload = decodeJWT(issuer.sign({}, { expiresIn: 60, notBefore: 30 }));
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload.nbf! - payload.iat!).toBe(30);
    expect((await rejection(verifierFor(issuer).verify(issuer.sign({}, { notBefore: 120 })))).reason).toBe('token_not_yet_valid');
    expect((await rejection(verifierFor(issuer).verify(issuer.sign({}, { expiresIn: -120 })))).reason).toBe('token_expired');
  });

  it('refuses expiresIn together with an exp claim', () => {
    expect(() => issuer.sign({ exp: nowSec() + 10 }, { expiresIn: 10 })).toThrow(ConfigError);
  });

  it('writes typ and extra header members, and removes those set to undefined', async () => {
    const token = issuer.sign({ client_id: 'svc', sub: 'svc' }, { typ: 'at+jwt', header: { kid: undefined, x5t: 'abc' } });
    expect(decodeJWT(token, { complete: true }).header).toEqual({ alg: 'RS256', typ: 'at+jwt', x5t: 'abc' });
    // A single-key set lets a kid-less token through, as jwks-rsa's getSigningKey() does.
    await expect(verifierFor(issuer).verify(token)).resolves.toMatchObject({ header: { typ: 'at+jwt' } });
  });

  it('signs with a signingKey other than the published one under the published kid', async () => {
    const token = issuer.sign({}, { signingKey: createTestKey().privateKey });
    expect(decodeJWT(token, { complete: true }).header.kid).toBe(issuer.currentKey.kid);
    expect((await rejection(verifierFor(issuer).verify(token))).reason).toBe('signature_invalid');
  });

  it.each([['ES256'], ['PS256']] as const)('mints %s tokens from an issuer created with that alg', async (alg) => {
    const other = await createTestIssuer({ alg });
    try {
      const token = other.sign();
      expect(decodeJWT(token, { complete: true }).header.alg).toBe(alg);
      await expect(verifierFor(other, { algorithms: [alg] }).verify(token)).resolves.toMatchObject({ source: 'jwt' });
      expect((await rejection(verifierFor(other).verify(token))).reason).toBe('algorithm_not_allowed');
    } finally {
      await other.close();
    }
  });
});

describe('issuer.badToken()', () => {
  it.each(BAD_TOKEN_KINDS)('makes bad token %s, which createVerifier rejects with its reason', async (kind) => {
    const err = await rejection(verifierFor(issuer).verify(issuer.badToken(kind)));
    expect(err.status).toBe(401);
    expect(err.reason).toBe(BAD_TOKEN_REASONS[kind]);
  });

  it.each(BAD_TOKEN_KINDS)('makes bad token %s, which verifyToken answers with 401 invalid_token', async (kind) => {
    const app = createApp([verifyToken({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true })]);
    const res = await request(app).get('/me').auth(issuer.badToken(kind), { type: 'bearer' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('derives the bad token from the given good one, keeping its other claims', () => {
    const good = issuer.sign({ sub: 'alice', scope: 'admin' });
    const expired = decodeJWT(issuer.badToken('expired', good));
    const original = decodeJWT(good);
    expect(expired).toMatchObject({ sub: 'alice', scope: 'admin', jti: original.jti });
    expect(expired.exp).toBeLessThan(nowSec());
    expect(expired.exp! - expired.iat!).toBe(original.exp! - original.iat!);
    expect(decodeJWT(issuer.badToken('tampered', good)).sub).not.toBe('alice');
  });
});

describe('issuer.rotateKeys()', () => {
  it('has new tokens accepted after a refetch, and then old-key tokens rejected', async () => {
    const rotating = await createTestIssuer();
    try {
      const verifier = verifierFor(rotating);
      const oldToken = rotating.sign();
      await verifier.verify(oldToken);
      const oldKid = rotating.currentKey.kid;
      const newKey = rotating.rotateKeys();
      expect(newKey.kid).not.toBe(oldKid);
      const newToken = rotating.sign();
      await expect(verifier.verify(newToken)).resolves.toMatchObject({ header: { kid: newKey.kid } });
      expect(rotating.requestCounts.jwks).toBe(2);
      expect((await rejection(verifier.verify(oldToken))).reason).toBe('key_not_found');
    } finally {
      await rotating.close();
    }
  });

  it('keeps the previous key published with keepPrevious', async () => {
    const rotating = await createTestIssuer();
    try {
      const oldKey = rotating.currentKey;
      const oldToken = rotating.sign();
      rotating.rotateKeys({ keepPrevious: true });
      expect(rotating.publishedKeys.map((key) => key.kid)).toEqual([rotating.currentKey.kid, oldKey.kid]);
      const verifier = verifierFor(rotating);
      await expect(verifier.verify(rotating.sign())).resolves.toBeDefined();
      await expect(verifier.verify(oldToken)).resolves.toBeDefined();
      expect(decodeJWT(rotating.sign({}, { kid: oldKey.kid }), { complete: true }).header.kid).toBe(oldKey.kid);
    } finally {
      await rotating.close();
    }
  });
});

describe('issuer.badToken() of a token whose key left the JWKS', () => {
  let rotated: TestIssuer;
  let oldToken: string;
  beforeAll(async () => {
    rotated = await createTestIssuer();
    oldToken = rotated.sign();
    rotated.rotateKeys({ keepPrevious: true });
    rotated.setKeys(rotated.currentKey);
  });
  afterAll(() => rotated.close());

  it.each(BAD_TOKEN_KINDS.filter((kind) => kind !== 'tampered'))('makes %s fail for its own reason, signed by the current key', async (kind) => {
    const token = rotated.badToken(kind, oldToken);
    expect((await rejection(verifierFor(rotated).verify(token))).reason).toBe(BAD_TOKEN_REASONS[kind]);
    if (kind !== 'unknown-kid') expect(decodeJWT(token, { complete: true }).header.kid).toBe(rotated.currentKey.kid);
  });

  it('re-signs with the current key\'s alg when it differs from the old token\'s', async () => {
    const switching = await createTestIssuer();
    try {
      const rsaToken = switching.sign();
      switching.setKeys(createTestKey({ alg: 'ES256' }));
      const expired = switching.badToken('expired', rsaToken);
      expect(decodeJWT(expired, { complete: true }).header).toMatchObject({ alg: 'ES256', kid: switching.currentKey.kid });
      expect((await rejection(verifierFor(switching, { algorithms: ['ES256'] }).verify(expired))).reason).toBe('token_expired');
    } finally {
      await switching.close();
    }
  });
});

describe('issuer.setOutage()', () => {
  it.each(['down', 'slow', 'garbage'] as OutageMode[])('%s: a cold verifier answers 503 with Retry-After', async (mode) => {
    const failing = await createTestIssuer();
    try {
      failing.setOutage(mode);
      const guard = verifyToken({ issuer: failing.issuer, audience: failing.audience, allowHttpLoopback: true, jwks: { timeout: 300 } });
      const res = await request(createApp([guard])).get('/me').auth(failing.sign(), { type: 'bearer' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(failing.requestCounts.discovery).toBe(1);
    } finally {
      await failing.close();
    }
  });

  it('targets one endpoint, and null ends the outage', async () => {
    const failing = await createTestIssuer();
    try {
      failing.setOutage('down', 'jwks');
      expect((await fetch(`${failing.issuer}/.well-known/openid-configuration`)).status).toBe(200);
      await expect(fetch(failing.jwksUri)).rejects.toThrow();
      failing.setOutage(null);
      expect((await fetch(failing.jwksUri)).status).toBe(200);
    } finally {
      await failing.close();
    }
  });

  it('slow: answers normally after slowResponseMs', async () => {
    const slow = await createTestIssuer({ slowResponseMs: 150 });
    try {
      slow.setOutage('slow', 'jwks');
      const startedMs = Date.now();
      expect((await fetch(slow.jwksUri)).status).toBe(200);
      expect(Date.now() - startedMs).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.close();
    }
  });

  it('setFault answers an injected status with Retry-After', async () => {
    const failing = await createTestIssuer();
    try {
      failing.setFault({ kind: 'status', status: 429, retryAfter: '7' }, ['jwks']);
      const res = await fetch(failing.jwksUri);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
    } finally {
      await failing.close();
    }
  });

  it('refuses an unknown mode or endpoint', () => {
    expect(() => issuer.setOutage('off' as OutageMode)).toThrow(ConfigError);
    expect(() => issuer.setOutage('down', 'token' as never)).toThrow(ConfigError);
  });
});

describe('issuer.requestCounts', () => {
  it('counts requests per endpoint; a warm verifier fetches nothing more', async () => {
    const counted = await createTestIssuer();
    try {
      const verifier = verifierFor(counted);
      await verifier.verify(counted.sign());
      await verifier.verify(counted.sign({ sub: 'other' }));
      await fetch(`${counted.url}/unknown?x=1`);
      expect(counted.requestCounts).toEqual({ discovery: 1, jwks: 1, introspection: 0, userinfo: 0, total: 3 });
      expect(counted.requestLog).toEqual(['GET /.well-known/openid-configuration', 'GET /.well-known/jwks.json', 'GET /unknown?x=1']);
      counted.resetRequests();
      expect(counted.requestCounts.total).toBe(0);
      expect(counted.requestLog).toEqual([]);
    } finally {
      await counted.close();
    }
  });
});

describe('the introspection endpoint (RFC 7662)', () => {
  it('answers active: true with the claims of an opaque token', async () => {
    const token = issuer.issueOpaque({ scope: 'read', client_id: 'svc' });
    const res = await introspect(issuer, { token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ active: true, scope: 'read', client_id: 'svc', iss: issuer.issuer, aud: issuer.audience, sub: 'test-user' });
  });

  it('answers for JWTs the issuer signed', async () => {
    const body = await (await introspect(issuer, { token: issuer.sign({ sub: 'jwt-user' }) })).json();
    expect(body).toMatchObject({ active: true, sub: 'jwt-user' });
  });

  it.each([
    ['a revoked', () => {
      const token = issuer.issueOpaque();
      issuer.revoke(token);
      return token;
    }],
    ['an expired', () => issuer.issueOpaque({}, { expiresIn: -1 })],
    ['a not yet valid', () => issuer.issueOpaque({}, { notBefore: 60 })],
    ['an unknown', () => 'never-issued'],
    ['a forged', () => issuer.badToken('tampered')],
  ])('answers only active: false for %s token', async (_label, makeToken) => {
    const res = await introspect(issuer, { token: makeToken() });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: false });
  });

  it.each([
    ['alg none', () => issuer.sign({}, { alg: 'none' })],
    ['alg HS256', () => issuer.sign({}, { alg: 'HS256' })],
    ['an alg set through header', () => issuer.sign({}, { header: { alg: 'RS384' } })],
    ['a foreign signingKey', () => issuer.sign({}, { signingKey: createTestKey().privateKey })],
  ])('answers active: false, and userinfo 401, for a token sign() forged with %s', async (_label, forge) => {
    const token = forge();
    expect(await (await introspect(issuer, { token })).json()).toEqual({ active: false });
    expect((await fetch(issuer.userinfoEndpoint!, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('answers active: true for a token signed with the issuer\'s own key given as signingKey', async () => {
    const token = issuer.sign({}, { signingKey: issuer.currentKey.privateKey, alg: issuer.currentKey.alg });
    expect(await (await introspect(issuer, { token })).json()).toMatchObject({ active: true });
  });

  it.each([
    ['a wrong secret', { authorization: basic('test-client', 'wrong') }],
    ['a wrong client id', { authorization: basic('other', 'test-secret') }],
    ['no credentials', { authorization: '' }],
    ['a Bearer token instead of client credentials', { authorization: 'Bearer abc' }],
  ])('answers 401 invalid_client for %s', async (_label, headers) => {
    const res = await introspect(issuer, { token: issuer.issueOpaque() }, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await res.json()).toEqual({ error: 'invalid_client' });
  });

  it('accepts client_secret_post credentials, but not both methods at once', async () => {
    const form = { token: issuer.issueOpaque(), client_id: 'test-client', client_secret: 'test-secret' };
    const post = await fetch(issuer.introspectionEndpoint!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    expect(await post.json()).toMatchObject({ active: true });
    expect((await introspect(issuer, form)).status).toBe(400);
  });

  it('requires the configured credentials, form-decoded from Basic (RFC 6749 §2.3.1)', async () => {
    const custom = await createTestIssuer({ introspection: { clientId: 'my api', clientSecret: 's3cr:t+%' } });
    try {
      expect(await (await introspect(custom, { token: custom.issueOpaque() })).json()).toMatchObject({ active: true });
      const raw = `Basic ${Buffer.from('my api:s3cr:t+%').toString('base64')}`;
      expect((await introspect(custom, { token: custom.issueOpaque() }, { authorization: raw })).status).toBe(401);
    } finally {
      await custom.close();
    }
  });

  it.each([
    ['a GET', { method: 'GET' }, 405],
    ['a JSON body', { method: 'POST', body: '{"token":"x"}', headers: { 'content-type': 'application/json' } }, 400],
    ['no token parameter', { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400],
    ['a repeated parameter', { method: 'POST', body: 'token=a&token=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400],
  ])('refuses %s', async (_label, init: RequestInit, status) => {
    const headers = { authorization: basic('test-client', 'test-secret'), ...(init.headers as Record<string, string>) };
    expect((await fetch(issuer.introspectionEndpoint!, { ...init, headers })).status).toBe(status);
  });
});

describe('the userinfo endpoint', () => {
  it('answers sub and the user claims, without the claims about the token', async () => {
    const token = issuer.issueOpaque({ sub: 'user-7', email: 'u7@example.com', scope: 'openid' });
    const res = await fetch(issuer.userinfoEndpoint!, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'user-7', email: 'u7@example.com' });
  });

  it('answers the userinfo given to issueOpaque', async () => {
    const token = issuer.issueOpaque({}, { userinfo: { sub: 'u', name: 'Ada' } });
    expect(await (await fetch(issuer.userinfoEndpoint!, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ sub: 'u', name: 'Ada' });
  });

  it('answers 401 invalid_token for a revoked token and 401 without an error code for none', async () => {
    const token = issuer.sign();
    issuer.revoke(token);
    const revoked = await fetch(issuer.userinfoEndpoint!, { headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const none = await fetch(issuer.userinfoEndpoint!);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).not.toContain('error=');
  });

  it('is left out, with introspection, when both are turned off', async () => {
    const bare = await createTestIssuer({ introspection: false, userinfo: false });
    try {
      const metadata = await getJSON(`${bare.issuer}/.well-known/openid-configuration`);
      expect(metadata).not.toHaveProperty('introspection_endpoint');
      expect(metadata).not.toHaveProperty('userinfo_endpoint');
      expect(bare.introspectionEndpoint).toBeUndefined();
      expect((await fetch(`${bare.url}/userinfo`)).status).toBe(404);
      expect((await fetch(`${bare.url}/introspect`, { method: 'POST' })).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe("bearer-guard's opaque-token path against the kit's endpoints", () => {
  it('accepts an opaque token through introspection with the issuer\'s client credentials', async () => {
    const verifier = verifierFor(issuer, { introspection: issuer.introspectionClient });
    const result = await verifier.verify(issuer.issueOpaque({ sub: 'svc-1', scope: 'orders:read' }));
    expect(result).toMatchObject({ source: 'introspection', header: undefined, payload: { active: true, sub: 'svc-1', scope: 'orders:read' } });
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)('authenticates with %s', async (authMethod) => {
    const verifier = verifierFor(issuer, { introspection: { ...issuer.introspectionClient!, authMethod } });
    await expect(verifier.verify(issuer.issueOpaque())).resolves.toMatchObject({ source: 'introspection' });
  });

  it('rejects a token revoked before its first use as inactive', async () => {
    const token = issuer.issueOpaque();
    issuer.revoke(token);
    const err = await rejection(verifierFor(issuer, { introspection: issuer.introspectionClient }).verify(token));
    expect(err).toMatchObject({ status: 401, reason: 'token_inactive' });
  });

  it('answers 503, not 401, when the API\'s own client credentials are wrong or introspection is down', async () => {
    const wrongSecret = verifierFor(issuer, { introspection: { clientId: 'test-client', clientSecret: 'wrong' } });
    expect((await rejection(wrongSecret.verify(issuer.issueOpaque()))).status).toBe(503);
    const failing = await createTestIssuer();
    try {
      failing.setOutage('down', 'introspection');
      const verifier = verifierFor(failing, { introspection: failing.introspectionClient });
      expect((await rejection(verifier.verify(failing.issueOpaque()))).status).toBe(503);
    } finally {
      await failing.close();
    }
  });

  it('accepts an opaque token through userinfo', async () => {
    const verifier = verifierFor(issuer, { userinfo: true });
    const result = await verifier.verify(issuer.issueOpaque({ sub: 'user-9', email: 'u9@example.com' }));
    expect(result).toMatchObject({ source: 'userinfo', payload: { sub: 'user-9', email: 'u9@example.com' } });
  });
});

describe('createTestKey() and signJWT()', () => {
  it('sign exactly the header and payload given, with any algorithm the key fits', () => {
    const key = createTestKey({ alg: 'ES384', kid: 'ec' });
    const token = signJWT({ alg: 'ES384', kid: 'ec' }, { sub: 'x' }, key.privateKey);
    expect(decodeJWT(token, { complete: true })).toMatchObject({ header: { alg: 'ES384', kid: 'ec' }, payload: { sub: 'x' } });
    expect(signJWT({ alg: 'none' }, {}, undefined).endsWith('.')).toBe(true);
  });
});

describe('issuer.close()', () => {
  // Timers are left to the child-process test: other code in this worker starts and ends its own.
  const watched = ['TCPServerWrap', 'TCPSocketWrap'];
  const countWatched = (): Record<string, number> =>
    Object.fromEntries(watched.map((type) => [type, process.getActiveResourcesInfo().filter((name) => name === type).length]));

  it('leaves no server or socket behind, even with a hanging and a slow request pending', async () => {
    const before = countWatched();
    const closing = await createTestIssuer({ slowResponseMs: 60_000 });
    closing.setOutage('slow', 'jwks');
    closing.setFault({ kind: 'hang' }, 'discovery');
    const pending = [fetch(closing.jwksUri), fetch(`${closing.issuer}/.well-known/openid-configuration`)].map((p) => p.catch(() => 'closed'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closing.close();
    expect(await Promise.all(pending)).toEqual(['closed', 'closed']);
    const after = countWatched();
    for (const type of watched) expect(after[type], type).toBeLessThanOrEqual(before[type]!);
    await expect(closing.close()).resolves.toBeUndefined();
  });

  it('leaves no timer behind: a process that used an issuer exits by itself', async () => {
    const script = `
      const { createTestIssuer } = require('./lib/testing/index.ts');
      const { createVerifier } = require('./lib/index.ts');
      (async () => {
        const issuer = await createTestIssuer({ slowResponseMs: 60000 });
        const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true });
        await verifier.verify(issuer.sign());
        await fetch(issuer.introspectionEndpoint, { method: 'POST' });
        issuer.setOutage('slow');
        const pending = fetch(issuer.userinfoEndpoint).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await issuer.close();
        await pending;
        console.log('closed');
      })();`;
    const startedMs = Date.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, timeout: 15_000 }, (err, out) => (err ? reject(err) : resolve(out)));
    });
    expect(stdout.trim()).toBe('closed');
    expect(Date.now() - startedMs).toBeLessThan(10_000);
  });
});
