import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { discoverIssuer, metadataURL, type DiscoveryOptions, type OptionalEndpoint } from '../lib/discovery.js';
import { ConfigError, createVerifier, KeySourceError, verifyToken, type VerifyTokenOptions } from '../lib/index.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, type Fault } from './helpers/idp-server.js';
import { startIntrospectionServer, type IntrospectionServer } from './helpers/introspection-server.js';
import { useIdpServer } from './helpers/use-idp-server.js';
import { sharedKey } from './helpers/keys.js';
import { NOW, signToken, TEST_AUDIENCE } from './helpers/tokens.js';
import { rejection } from './helpers/outcome.js';

const KEY = sharedKey('d1');
const LIMITS: DiscoveryOptions = { document: 'openid-configuration', allowHttpLoopback: true, timeoutMs: 2_000, maxBytes: 64 * 1024, retryAfterMs: 5_000 };

let serial = 0;
// An issuer path per test: discovery and JWKS clients are cached per process, and a port may be reused.
const idp = useIdpServer(() => {
  serial += 1;
  return { keys: [KEY], issuerPath: `/d${serial}`, jwksPath: `/d${serial}/jwks` };
}, { per: 'test' });
afterEach(() => {
  vi.useRealTimers();
});

function verifierFor(options: Partial<VerifyTokenOptions> = {}) {
  return createVerifier({ issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, ...options });
}

function tokenFor(issuer = idp.issuer): string {
  return signToken(KEY, { iss: issuer });
}

async function expectOutage(promise: Promise<unknown>, message?: RegExp): Promise<KeySourceError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(KeySourceError);
  expect(err).toMatchObject({ status: 503, reason: 'key_source_unavailable' });
  if (message) expect((err as Error).message).toMatch(message);
  return err as KeySourceError;
}

describe('metadataURL', () => {
  it.each([
    ['an origin', 'https://idp.example', 'openid-configuration', 'https://idp.example/.well-known/openid-configuration'],
    ['an origin with a trailing slash', 'https://idp.example/', 'openid-configuration', 'https://idp.example/.well-known/openid-configuration'],
    ['a path', 'https://idp.example/tenant', 'openid-configuration', 'https://idp.example/tenant/.well-known/openid-configuration'],
    ['an origin', 'https://idp.example', 'oauth-authorization-server', 'https://idp.example/.well-known/oauth-authorization-server'],
    ['a path', 'https://idp.example/tenant', 'oauth-authorization-server', 'https://idp.example/.well-known/oauth-authorization-server/tenant'],
  ] as const)('places the metadata of an issuer with %s for %s', (_label, issuer, document, expected) => {
    expect(metadataURL(issuer, document).href).toBe(expected);
  });
});

describe('discoverIssuer', () => {
  it('returns jwks_uri, introspection_endpoint and userinfo_endpoint from the metadata', async () => {
    idp.setMetadata({ introspection_endpoint: `${idp.url}/introspect`, userinfo_endpoint: `${idp.url}/userinfo` });
    await expect(discoverIssuer(idp.issuer, LIMITS)).resolves.toEqual({
      issuer: idp.issuer,
      jwks_uri: idp.jwksUri,
      introspection_endpoint: `${idp.url}/introspect`,
      userinfo_endpoint: `${idp.url}/userinfo`,
      unusable: {},
    });
  });

  it.each<[string, OptionalEndpoint, unknown, string]>([
    ['a jwks_uri over http off loopback', 'jwks_uri', 'http://idp.example/jwks', 'must use https: (plain http: is allowed only for loopback hosts with `allowHttpLoopback: true`)'],
    ['a jwks_uri that is empty', 'jwks_uri', '', 'must be a non-empty URL string'],
    ['an introspection_endpoint over http off loopback', 'introspection_endpoint', 'http://idp.example/introspect', 'must use https: (plain http: is allowed only for loopback hosts with `allowHttpLoopback: true`)'],
    ['an introspection_endpoint that is not a string', 'introspection_endpoint', 42, 'must be a non-empty URL string'],
    ['a userinfo_endpoint with credentials', 'userinfo_endpoint', 'https://user:pw@idp.example/userinfo', 'must not contain credentials'],
  ])('records %s as unusable, with why, instead of failing discovery', async (_label, member, value, why) => {
    idp.setMetadata({ [member]: value });
    const metadata = await discoverIssuer(idp.issuer, LIMITS);
    expect(metadata).toMatchObject({ jwks_uri: idp.jwksUri, [member]: undefined });
    expect(metadata.unusable).toEqual({ [member]: `Issuer metadata \`${member}\` ${why}` });
    expect(Object.isFrozen(metadata.unusable)).toBe(true);
  });

  it('records a bad jwks_uri and a bad optional endpoint each with its own reason', async () => {
    idp.setMetadata({ jwks_uri: 'http://idp.example/jwks', introspection_endpoint: 42 });
    const { unusable } = await discoverIssuer(idp.issuer, LIMITS);
    expect(unusable.jwks_uri).toMatch(/^Issuer metadata `jwks_uri` must use https:/);
    expect(unusable.introspection_endpoint).toMatch(/^Issuer metadata `introspection_endpoint` must be a non-empty URL string/);
  });

  it('reads the RFC 8414 document from the path-inserted location', async () => {
    await discoverIssuer(idp.issuer, { ...LIMITS, document: 'oauth-authorization-server' });
    expect(idp.requests).toEqual([`GET /.well-known/oauth-authorization-server/d${serial}`]);
  });

  it('accepts metadata without jwks_uri (OPTIONAL in RFC 8414 §2), recording nothing as unusable', async () => {
    idp.setMetadata({ jwks_uri: undefined, introspection_endpoint: `${idp.url}/introspect` });
    await expect(discoverIssuer(idp.issuer, LIMITS)).resolves.toMatchObject({ jwks_uri: undefined, introspection_endpoint: `${idp.url}/introspect`, unusable: {} });
  });

  it.each<[string, () => Fault, DiscoveryOptions, RegExp]>([
    ['past its deadline', () => ({ kind: 'hang' }), { ...LIMITS, timeoutMs: 200 }, /did not complete within 200 ms/],
    ['larger than the byte cap', () => ({ kind: 'huge', bytes: 200_000 }), LIMITS, /more than 65536 bytes/],
    ['answered with an error status', () => ({ kind: 'status', status: 500 }), LIMITS, /answered HTTP 500/],
    ['answered with something other than JSON', () => ({ kind: 'garbage' }), LIMITS, /did not answer a JSON object/],
  ])('fails with KeySourceError on metadata %s', async (_label, fault, options, message) => {
    idp.setFault(fault(), 'discovery');
    await expectOutage(discoverIssuer(idp.issuer, options), message);
  });

  it('gives each caller in the retry window its own error, with a Retry-After that counts down', async () => {
    idp.setFault({ kind: 'status', status: 500 }, 'discovery');
    const first = await expectOutage(discoverIssuer(idp.issuer, LIMITS));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3_000);
    const later = await expectOutage(discoverIssuer(idp.issuer, LIMITS));
    expect(later).not.toBe(first);
    expect(first.retryAfterSec).toBe(5);
    expect(later.retryAfterSec).toBe(2);
    expect(idp.hits.discovery).toBe(1);
  });

  it('does not follow a redirect from the metadata URL', async () => {
    const elsewhere = await startIdpServer({ keys: [KEY] });
    try {
      idp.setFault({ kind: 'redirect', location: `${elsewhere.url}/.well-known/openid-configuration` }, 'discovery');
      await expectOutage(discoverIssuer(idp.issuer, LIMITS), /redirects are not followed/);
      expect(elsewhere.hits.total).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('discovery through the verifier', () => {
  it('finds the keys from the issuer alone: metadata first, then its jwks_uri', async () => {
    await expect(verifierFor().verify(tokenFor())).resolves.toMatchObject({ payload: { iss: idp.issuer } });
    expect(idp.requests).toEqual([`GET /d${serial}/.well-known/openid-configuration`, `GET /d${serial}/jwks`]);
  });

  it("reads the RFC 8414 document with discovery: 'oauth-authorization-server'", async () => {
    await verifierFor({ discovery: 'oauth-authorization-server' }).verify(tokenFor());
    expect(idp.requests[0]).toBe(`GET /.well-known/oauth-authorization-server/d${serial}`);
  });

  describe('issuer equality (OIDC Discovery §4.3, RFC 8414 §3.3)', () => {
    it.each<[string, (issuer: string) => unknown]>([
      ['with a trailing slash added', (issuer) => `${issuer}/`],
      ['with its path in another case', (issuer) => issuer.replace('/d', '/D')],
      ['on another host for the same server', (issuer) => issuer.replace('127.0.0.1', 'localhost')],
      ['on another scheme', (issuer) => issuer.replace('http:', 'https:')],
      ['missing', () => undefined],
    ])('answers 503 without fetching keys when the metadata names the issuer %s', async (_label, named) => {
      idp.setMetadata({ issuer: named(idp.issuer) });
      const app = createApp([verifyToken({ issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true })]);
      const res = await request(app).get('/me').set('Authorization', `Bearer ${tokenFor()}`);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ reason: 'key_source_unavailable', message: expect.stringMatching(/names another issuer/) });
      expect(res.headers['retry-after']).toBe('5');
      expect(idp.hits.jwks).toBe(0);
    });

    it('answers 503 when the configured issuer has a trailing slash the metadata lacks', async () => {
      const configured = `${idp.issuer}/`;
      await expectOutage(verifierFor({ issuer: configured }).verify(tokenFor(configured)), /names another issuer/);
    });
  });

  it('answers 503 without fetching keys when the metadata names a jwks_uri over http off loopback', async () => {
    idp.setMetadata({ jwks_uri: 'http://idp.example/jwks' });
    await expectOutage(verifierFor().verify(tokenFor()), /`jwks_uri` must use https:/);
    expect(idp.hits.jwks).toBe(0);
  });

  it.each([
    ['over http off loopback', 'http://idp.example/introspect'],
    ['that is not a string', { url: 'https://idp.example/introspect' }],
  ])('answers 200 for a JWT when the metadata names an introspection_endpoint %s', async (_label, value) => {
    idp.setMetadata({ introspection_endpoint: value });
    const app = createApp([verifyToken({ issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true })]);
    const res = await request(app).get('/me').set('Authorization', `Bearer ${tokenFor()}`);
    expect(res.status).toBe(200);
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 1 });
  });

  it('answers 200 for a JWT when opaque tokens are introspected and the introspection_endpoint is refused', async () => {
    idp.setMetadata({ introspection_endpoint: 'http://idp.example/introspect' });
    const guard = verifyToken({ issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: 's3cret' } });
    const res = await request(createApp([guard])).get('/me').set('Authorization', `Bearer ${tokenFor()}`);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('jwt');
  });

  it('bounds the metadata fetch by the `jwks.timeout` deadline', async () => {
    idp.setFault({ kind: 'hang' }, 'discovery');
    const startedMs = Date.now();
    await expectOutage(verifierFor({ jwks: { timeout: 200 } }).verify(tokenFor()), /did not complete within 200 ms/);
    expect(Date.now() - startedMs).toBeLessThan(2_000);
  });

  it('caps the metadata by the `jwks.maxResponseBytes` limit', async () => {
    idp.setFault({ kind: 'huge', bytes: 20_000 }, 'discovery');
    await expectOutage(verifierFor({ jwks: { maxResponseBytes: 10_000 } }).verify(tokenFor()), /more than 10000 bytes/);
  });

  it('discovers once per process: a second verifier of the issuer fetches nothing', async () => {
    await verifierFor().verify(tokenFor());
    await verifierFor().verify(tokenFor());
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 1 });
  });

  it('shares one discovery call among concurrent first requests', async () => {
    idp.setFault({ kind: 'delay', ms: 100 }, 'discovery');
    const verifier = verifierFor();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => verifier.verify(signToken(KEY, { iss: idp.issuer, jti: `j${i}` }))));
    expect(results).toHaveLength(20);
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 1 });
  });

  it('answers 503 for 5 s after a failed discovery without fetching again', async () => {
    idp.setFault({ kind: 'status', status: 500 }, 'discovery');
    const verifier = verifierFor();
    await expectOutage(verifier.verify(tokenFor()));
    idp.setFault(null);
    const err = await expectOutage(verifier.verify(tokenFor()));
    expect(err.retryAfterSec).toBe(5);
    expect(idp.hits.discovery).toBe(1);
  });

  it('retries a failed discovery at once when the clock has stepped back since, instead of holding off for the step', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    idp.setFault({ kind: 'status', status: 500 }, 'discovery');
    const verifier = verifierFor();
    await expectOutage(verifier.verify(tokenFor()));
    idp.setFault(null);
    vi.setSystemTime(Date.now() - 3_600_000);
    await expect(verifier.verify(signToken(KEY, { iss: idp.issuer, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 }))).resolves.toMatchObject({ source: 'jwt' });
    expect(idp.hits.discovery).toBe(2);
  });

  it('retries a failed discovery once 5 s have passed', async () => {
    idp.setFault({ kind: 'status', status: 500 }, 'discovery');
    const verifier = verifierFor();
    await expectOutage(verifier.verify(tokenFor()));
    idp.setFault(null);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5_001);
    await expect(verifier.verify(tokenFor())).resolves.toMatchObject({ source: 'jwt' });
    expect(idp.hits.discovery).toBe(2);
  });
});

describe('an issuer whose metadata has no usable jwks_uri', () => {
  // Only the JWT path needs a jwks_uri (RFC 8414 §2 makes it OPTIONAL): opaque tokens of the same
  // issuer are introspected as usual, and a JWT gets a 503 that says what is missing.
  const SECRET = 'discovery-introspection-secret';
  let introspection: IntrospectionServer;
  let opaqueCount = 0;
  beforeAll(async () => {
    introspection = await startIntrospectionServer({ clientId: 'api', clientSecret: SECRET });
  });
  afterAll(() => introspection.close());

  const introspecting = (options: Partial<VerifyTokenOptions> = {}) => verifyToken({
    issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: SECRET }, ...options,
  });

  function opaqueToken(): string {
    const token = `discovery-opaque-${++opaqueCount}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
    introspection.answer(token, { kind: 'json', body: { active: true, iss: idp.issuer, aud: TEST_AUDIENCE, sub: 'svc', exp: NOW + 600 } });
    return token;
  }
  const introspectionsOf = (token: string) => introspection.requests.filter((r) => r.form.get('token') === token).length;

  it.each([
    ['no jwks_uri', 'openid-configuration', undefined],
    ['no jwks_uri', 'oauth-authorization-server', undefined],
    ['a jwks_uri over http off loopback', 'openid-configuration', 'http://keys.example/jwks'],
    ['a jwks_uri over http off loopback', 'oauth-authorization-server', 'http://keys.example/jwks'],
  ] as const)('verifies the opaque tokens of an opaque-only issuer by introspection when the metadata has %s (%s)', async (_label, document, jwksUri) => {
    idp.setMetadata({ jwks_uri: jwksUri, introspection_endpoint: introspection.introspectionEndpoint });
    const token = opaqueToken();
    const res = await request(createApp([introspecting({ tokenFormat: 'opaque', discovery: document })])).get('/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('introspection');
    expect(introspectionsOf(token)).toBe(1);
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 0 });
  });

  it('answers a JWT 503 naming jwks_uri when the metadata has none, fetching nothing but the metadata', async () => {
    idp.setMetadata({ jwks_uri: undefined });
    const res = await request(createApp([verifyToken({ issuer: idp.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true })])).get('/me').set('Authorization', `Bearer ${tokenFor()}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ reason: 'key_source_unavailable', message: 'Issuer metadata has no jwks_uri; configure `jwksUri`' });
    expect(res.headers['retry-after']).toBe('5');
    expect(idp.requests).toEqual([`GET /d${serial}/.well-known/openid-configuration`]);
  });

  it.each([
    ['left out', undefined],
    ['refused by the URL policy', 'http://keys.example/jwks'],
  ])('discovers again 5 s after metadata whose jwks_uri was %s, so JWTs recover without a restart', async (_label, jwksUri) => {
    idp.setMetadata({ jwks_uri: jwksUri });
    const verifier = verifierFor();
    await expectOutage(verifier.verify(tokenFor()), /jwks_uri/);
    idp.setMetadata({});
    await expectOutage(verifier.verify(tokenFor()), /jwks_uri/); // within the 5 s: no new fetch
    expect(idp.hits.discovery).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5_001);
    await expect(verifier.verify(tokenFor())).resolves.toMatchObject({ source: 'jwt' });
    expect(idp.hits.discovery).toBe(2);
  });

  it('answers a JWT 503 saying why a refused jwks_uri is not fetched', async () => {
    idp.setMetadata({ jwks_uri: 'http://keys.example/jwks' });
    await expectOutage(verifierFor().verify(tokenFor()), /^Issuer metadata `jwks_uri` must use https: .*, so it is not fetched; configure `jwksUri`$/);
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 0 });
  });

  it('answers a JWT 503 and still introspects opaque tokens for a jwt-or-opaque issuer without jwks_uri', async () => {
    idp.setMetadata({ jwks_uri: undefined, introspection_endpoint: introspection.introspectionEndpoint });
    const app = createApp([introspecting()]);
    const jwtToken = tokenFor();
    const jwt = await request(app).get('/me').set('Authorization', `Bearer ${jwtToken}`);
    expect(jwt.status).toBe(503);
    expect(jwt.body.message).toMatch(/jwks_uri/);
    const token = opaqueToken();
    const opaque = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
    expect(opaque.status).toBe(200);
    expect(introspectionsOf(token)).toBe(1);
    expect(introspectionsOf(jwtToken)).toBe(0);
    expect(idp.hits).toMatchObject({ discovery: 1, jwks: 0 });
  });
});

describe('discovery configuration at startup', () => {
  it.each([
    ['createVerifier', createVerifier],
    ['verifyToken', verifyToken],
  ] as const)('%s refuses a bare-host issuer without jwksUri, saying so', (name, create) => {
    expect(() => create({ issuer: 'auth.sophon.xyz', audience: 'partner-1' })).toThrow(ConfigError);
    expect(() => create({ issuer: 'auth.sophon.xyz', audience: 'partner-1' })).toThrow(
      `${name}: \`issuer\` "auth.sophon.xyz" is not a URL, so its keys cannot be discovered: give \`jwksUri\``,
    );
  });

  it('names the `issuers` entry whose bare-host issuer has no jwksUri', () => {
    const issuers = [{ issuer: idp.issuer, audience: TEST_AUDIENCE }, { issuer: 'auth.sophon.xyz', audience: 'partner-1' }];
    expect(() => createVerifier({ issuers, allowHttpLoopback: true })).toThrow(/^createVerifier: `issuers\[1\]`: `issuer` "auth\.sophon\.xyz" is not a URL/);
  });

  it.each([
    ['off loopback', 'http://idp.example', true, /`issuer` \(used for discovery without `jwksUri`\) must use https:/],
    ['on loopback without allowHttpLoopback', 'http://127.0.0.1:9/tenant', false, /set `allowHttpLoopback: true`/],
  ])('refuses an http issuer %s, since its metadata would travel in clear text', (_label, issuer, allowHttpLoopback, message) => {
    expect(() => createVerifier({ issuer, audience: TEST_AUDIENCE, allowHttpLoopback })).toThrow(message);
  });

  it('refuses bad `jwks` cache settings at startup, before any discovery', () => {
    expect(() => verifierFor({ jwks: { cacheMaxAge: -1 } })).toThrow(ConfigError);
    expect(idp.hits.total).toBe(0);
  });
});
