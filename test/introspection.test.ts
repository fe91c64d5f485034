import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, createVerifier, requireScopes, verifyToken, type VerifyTokenOptions } from '../lib/index.js';
import { buildIntrospectionRequest } from '../lib/introspection.js';
import { fetchUserinfo } from '../lib/userinfo.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { startIntrospectionServer, type IntrospectionServer } from './helpers/introspection-server.js';
import { sharedKey } from './helpers/keys.js';
import { NOW, signToken, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

const SECRET = 's3cret-value';
const KEY = sharedKey('k1');
let idp: IntrospectionServer;
let jwks: IdpServer;
let counter = 0;

beforeAll(async () => {
  idp = await startIntrospectionServer({ clientId: 'api', clientSecret: SECRET });
  jwks = await startIdpServer({ keys: [KEY] });
});
afterAll(async () => {
  await idp.close();
  await jwks.close();
});
afterEach(() => {
  vi.useRealTimers();
  idp.fault(null);
  idp.delay(0);
});

/** A fresh opaque token string, so no test sees another's cache entries. */
function opaqueToken(): string {
  counter += 1;
  return `opaque-${counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
}

function activeFor(token: string, claims: Record<string, unknown> = {}): string {
  idp.answer(token, { kind: 'json', body: { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'client-1', client_id: 'client-1', exp: NOW + 600, scope: 'read', ...claims } });
  return token;
}

function callsFor(token: string): number {
  return idp.requests.filter((r) => r.path === '/introspect' && r.form.get('token') === token).length;
}

function verifier(options: Partial<VerifyTokenOptions> = {}) {
  return createVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwksUri: jwks.jwksUri,
    allowHttpLoopback: true,
    introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint },
    ...options,
  });
}

function outcome(promise: Promise<unknown>): Promise<{ status: number; reason: string; message: string } | 'accepted'> {
  return promise.then(
    () => 'accepted' as const,
    (err: { status: number; reason: string; message: string }) => ({ status: err.status, reason: err.reason, message: err.message }),
  );
}

describe('RFC 7662 introspection', () => {
  it('accepts an active token and returns the introspection response as payload', async () => {
    const token = activeFor(opaqueToken());
    const result = await verifier().verify(token);
    expect(result).toMatchObject({ token, header: undefined, source: 'introspection', payload: { active: true, sub: 'client-1' } });
  });

  it('authenticates with HTTP Basic and sends token_type_hint=access_token', async () => {
    const token = activeFor(opaqueToken());
    await verifier().verify(token);
    const sent = idp.requests.find((r) => r.form.get('token') === token)!;
    expect(sent.method).toBe('POST');
    expect(sent.contentType).toBe('application/x-www-form-urlencoded');
    expect(sent.authorization).toBe(`Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`);
    expect(sent.form.get('token_type_hint')).toBe('access_token');
    expect(sent.form.get('client_secret')).toBeNull();
  });

  it('sends the credentials in the body with client_secret_post', async () => {
    const token = activeFor(opaqueToken());
    await verifier({ introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint, authMethod: 'client_secret_post' } }).verify(token);
    const sent = idp.requests.find((r) => r.form.get('token') === token)!;
    expect(sent.authorization).toBeUndefined();
    expect(sent.form.get('client_id')).toBe('api');
  });

  it('form-encodes client credentials before Basic, as RFC 6749 §2.3.1 says', () => {
    const { headers } = buildIntrospectionRequest('t', { endpoint: 'https://x', clientId: 'a:b', clientSecret: 'p&q r', authMethod: 'client_secret_basic' });
    expect(Buffer.from(headers.authorization!.slice(6), 'base64').toString()).toBe('a%3Ab:p%26q+r');
  });

  it.each([
    ['an inactive token', { active: false }, 'token_inactive'],
    ['active given as a string', { active: 'true' }, 'token_inactive'],
    ['another issuer', { iss: 'https://evil.test' }, 'issuer_mismatch'],
    ['another audience', { aud: 'https://other.test' }, 'audience_mismatch'],
    ['no audience', { aud: undefined }, 'claim_missing'],
    ['an exp in the past', { exp: NOW - 60 }, 'token_expired'],
    ['a proof-of-possession binding (cnf)', { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }, 'claim_invalid'],
  ])('rejects %s with 401', async (_label, claims, reason) => {
    const token = opaqueToken();
    const body = { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'c', exp: NOW + 600, ...claims };
    idp.answer(token, { kind: 'json', body: JSON.parse(JSON.stringify(body)) });
    expect(await outcome(verifier().verify(token))).toMatchObject({ status: 401, reason });
  });

  it('accepts an answer without aud when missing audiences are allowed', async () => {
    const token = activeFor(opaqueToken(), { aud: undefined });
    expect(await outcome(verifier({ dangerouslyAllowMissingAudience: true }).verify(token))).toBe('accepted');
  });

  it('asks again at once when the clock has stepped back since a failure that holds the endpoint off', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
    const v = verifier();
    // Our own credentials refused: the endpoint is left alone for 5 s.
    idp.fault({ kind: 'json', status: 401, body: { error: 'invalid_client' } });
    const first = activeFor(opaqueToken());
    expect(await outcome(v.verify(first))).toMatchObject({ status: 503 });
    idp.fault(null);
    vi.setSystemTime(NOW * 1000 - 3_600_000);
    const second = activeFor(opaqueToken(), { exp: NOW + 600, iat: undefined });
    expect(await outcome(v.verify(second))).toBe('accepted');
    expect(callsFor(second)).toBe(1);
  });

  describe('introspection.allowMissingAudience', () => {
    const lenient = () => verifier({ introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint, allowMissingAudience: true } });

    it('accepts an answer without aud', async () => {
      expect(await outcome(lenient().verify(activeFor(opaqueToken(), { aud: undefined })))).toBe('accepted');
    });

    it('still refuses an answer whose aud names another API', async () => {
      expect(await outcome(lenient().verify(activeFor(opaqueToken(), { aud: 'https://other.test' })))).toMatchObject({ reason: 'audience_mismatch' });
    });

    it("still refuses the issuer's JWTs without aud, unlike dangerouslyAllowMissingAudience", async () => {
      const jwt = signToken(KEY, { aud: undefined });
      expect(await outcome(lenient().verify(jwt))).toMatchObject({ status: 401, reason: 'claim_missing' });
      expect(await outcome(verifier({ dangerouslyAllowMissingAudience: true }).verify(jwt))).toBe('accepted');
    });
  });

  it.each([
    ['token_type', 'refresh_token'], ['token_use', 'refresh_token'], ['token_type', 'Refresh'],
  ])('rejects an answer whose %s says %s: a refresh token is no bearer credential', async (claim, value) => {
    expect(await outcome(verifier().verify(activeFor(opaqueToken(), { [claim]: value })))).toMatchObject({ status: 401, reason: 'claim_invalid' });
  });

  it.each([['token_type', 'Bearer'], ['token_type', 'access_token'], ['token_use', 'access_token']])('accepts an answer whose %s is %s', async (claim, value) => {
    expect(await outcome(verifier().verify(activeFor(opaqueToken(), { [claim]: value })))).toBe('accepted');
  });

  it.each([['sub', 42], ['client_id', ['a']], ['jti', { x: 1 }]])('rejects an answer whose %s is %o, not a string', async (claim, value) => {
    expect(await outcome(verifier().verify(activeFor(opaqueToken(), { [claim]: value })))).toMatchObject({ status: 401, reason: 'claim_invalid' });
  });

  it('rejects an unknown token with 401', async () => {
    expect(await outcome(verifier().verify(opaqueToken()))).toMatchObject({ status: 401, reason: 'token_inactive' });
  });

  it('costs the IdP one call for 1 000 requests with one token', async () => {
    const token = activeFor(opaqueToken());
    const v = verifier();
    for (let i = 0; i < 1000; i++) await v.verify(token);
    expect(callsFor(token)).toBe(1);
  });

  it('shares one call among concurrent requests with one uncached token', async () => {
    const token = activeFor(opaqueToken());
    idp.delay(50);
    const v = verifier();
    const results = await Promise.all(Array.from({ length: 100 }, () => v.verify(token)));
    expect(results.every((r) => r.source === 'introspection')).toBe(true);
    expect(callsFor(token)).toBe(1);
  });

  it('keeps serving cached answers from memory through a flood of unknown tokens', async () => {
    const legit = Array.from({ length: 100 }, () => activeFor(opaqueToken()));
    const v = verifier({ introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint, cacheMaxEntries: 100 } });
    for (const token of legit) await v.verify(token);
    for (let i = 0; i < 200; i++) await outcome(v.verify(opaqueToken()));
    for (const token of legit) await v.verify(token);
    expect(legit.map(callsFor)).toEqual(legit.map(() => 1));
  });

  it('never keeps an answer past the token exp', async () => {
    const token = activeFor(opaqueToken(), { exp: NOW + 60 });
    const v = verifier({ clockTolerance: 0 });
    await v.verify(token);
    // Only Date is faked: the HTTP client's own timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((NOW + 61) * 1000);
    idp.answer(token, { kind: 'json', body: { active: false } });
    expect(await outcome(v.verify(token))).toMatchObject({ reason: 'token_inactive' });
    expect(callsFor(token)).toBe(2);
  });

  it('remembers an inactive answer briefly', async () => {
    const token = opaqueToken();
    const v = verifier();
    await outcome(v.verify(token));
    await outcome(v.verify(token));
    expect(callsFor(token)).toBe(1);
  });

  it('never remembers an outage', async () => {
    const token = activeFor(opaqueToken());
    const v = verifier();
    idp.fault({ kind: 'json', status: 500, body: {} });
    expect(await outcome(v.verify(token))).toMatchObject({ status: 503 });
    idp.fault(null);
    expect(await outcome(v.verify(token))).toBe('accepted');
  });

  it('answers 503, not 401, when its own credentials are refused, and says why', async () => {
    const token = activeFor(opaqueToken());
    const result = await outcome(verifier({ introspection: { clientId: 'api', clientSecret: 'wrong-secret', endpoint: idp.introspectionEndpoint } }).verify(token));
    expect(result).toMatchObject({ status: 503, reason: 'key_source_unavailable' });
    expect((result as { message: string }).message).toContain("refused this API's client credentials");
    expect((result as { message: string }).message).not.toContain('wrong-secret');
  });

  it.each([
    ['a 5xx', { kind: 'json', status: 502, body: {} }],
    ['a body that is not JSON', { kind: 'raw', status: 200, body: '<html>' }],
    ['a JSON array', { kind: 'json', body: [] }],
    ['a redirect', { kind: 'raw', status: 302, body: '', headers: { location: 'http://127.0.0.1:9/introspect' } }],
    ['a reset connection', { kind: 'reset' }],
  ] as const)('answers 503 with Retry-After for %s', async (_label, answer) => {
    idp.fault(answer);
    const error = await verifier().verify(activeFor(opaqueToken())).catch((err: { status: number; headers: Record<string, string> }) => err);
    expect(error).toMatchObject({ status: 503 });
    expect(Number((error as { headers: Record<string, string> }).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 within the deadline when the endpoint hangs', async () => {
    idp.fault({ kind: 'hang' });
    const started = Date.now();
    const v = verifier({ introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint, timeout: 300 } });
    expect(await outcome(v.verify(opaqueToken()))).toMatchObject({ status: 503 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 503, not 401, for an answer nested 20 000 deep within the byte cap', async () => {
    const token = opaqueToken();
    const depth = 20_000;
    const body = `{"active":true,"iss":"${TEST_ISSUER}","aud":"${TEST_AUDIENCE}","sub":"c","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    idp.answer(token, { kind: 'raw', status: 200, body, headers: { 'content-type': 'application/json' } });
    const error = await verifier().verify(token).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 503, reason: 'key_source_unavailable', headers: { 'Retry-After': expect.any(String) } });
  });

  it('answers 503 for an answer over the byte cap', async () => {
    const token = opaqueToken();
    idp.answer(token, { kind: 'json', body: { active: true, pad: 'x'.repeat(4096) } });
    const v = verifier({ introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint, maxResponseBytes: 1024 } });
    expect(await outcome(v.verify(token))).toMatchObject({ status: 503 });
  });
});

/** Tokens no RFC 6750 header could carry, as `verify()` or a custom `getToken` may still pass them. */
const NOT_B64TOKENS = [
  ['a line break', 'abc\ndef'],
  ['a NUL', 'a\u0000b'],
  ['a line separator (U+2028)', 'tok\u2028en'],
  ['a Latin-1 letter', 'caf\u00e9-token'],
  ['a space', 'two words'],
  ['padding in the middle', 'ab=cd'],
] as const;

describe.each(['introspection', 'userinfo'] as const)('a token that is not a b64token, with %s', (method) => {
  const opaqueVerifier = () =>
    verifier({ tokenFormat: 'opaque', ...(method === 'userinfo' && { introspection: undefined, userinfo: { endpoint: idp.userinfoEndpoint } }) });

  it.each(NOT_B64TOKENS)('is refused as malformed, with no IdP call, when it holds %s', async (_label, token) => {
    const before = idp.requests.length;
    expect(await outcome(opaqueVerifier().verify(token))).toEqual({ status: 401, reason: 'malformed', message: 'Token is not an RFC 6750 b64token' });
    expect(idp.requests.length).toBe(before);
  });

  it('is refused as malformed when a custom getToken reads it from a cookie', async () => {
    const check = method === 'introspection'
      ? { introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint } }
      : { userinfo: { endpoint: idp.userinfoEndpoint } };
    const guard = verifyToken({
      issuer: TEST_ISSUER, audience: TEST_AUDIENCE, allowHttpLoopback: true, tokenFormat: 'opaque', ...check,
      getToken: (req) => decodeURIComponent((req.headers.cookie ?? '').replace(/^t=/, '')),
    });
    const before = idp.requests.length;
    const res = await request(createApp([guard])).get('/me').set('Cookie', `t=${encodeURIComponent('garbage\u00e9\n')}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('malformed');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(idp.requests.length).toBe(before);
  });
});

describe('which path a token takes', () => {
  it('verifies a JWT locally and never retries a failing one through introspection', async () => {
    const v = verifier();
    const jwt = signToken(KEY, { aud: 'https://other.test' });
    const before = idp.requests.length;
    expect(await outcome(v.verify(jwt))).toMatchObject({ reason: 'audience_mismatch' });
    expect(await outcome(v.verify(signToken(KEY)))).toBe('accepted');
    expect(idp.requests.length).toBe(before);
  });

  it("introspects JWT-shaped tokens too with tokenFormat 'opaque'", async () => {
    const jwt = activeFor(signToken(KEY));
    const result = await verifier({ tokenFormat: 'opaque' }).verify(jwt);
    expect(result.source).toBe('introspection');
    expect(callsFor(jwt)).toBe(1);
  });

  it('refuses an opaque token as malformed when no opaque path is configured', async () => {
    const token = activeFor(opaqueToken());
    const v = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: jwks.jwksUri, allowHttpLoopback: true });
    expect(await outcome(v.verify(token))).toMatchObject({ status: 401, reason: 'malformed' });
    expect(callsFor(token)).toBe(0);
  });

  it('finds the introspection endpoint by discovery when none is given', async () => {
    const meta = await startIdpServer({ keys: [KEY] });
    try {
      const token = opaqueToken();
      idp.answer(token, { kind: 'json', body: { active: true, iss: meta.issuer, aud: TEST_AUDIENCE, sub: 'c', exp: NOW + 600 } });
      meta.setMetadata({ introspection_endpoint: idp.introspectionEndpoint });
      const v = createVerifier({ issuer: meta.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: SECRET } });
      expect(await outcome(v.verify(token))).toBe('accepted');
      expect(callsFor(token)).toBe(1);
      expect(meta.hits.discovery).toBe(1);
    } finally {
      await meta.close();
    }
  });

  describe('when discovery names an introspection_endpoint the URL policy refuses', () => {
    let meta: IdpServer;
    beforeEach(async () => {
      meta = await startIdpServer({ keys: [KEY] });
    });
    afterEach(async () => {
      await meta.close();
    });

    const byDiscovery = () => createVerifier({ issuer: meta.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: SECRET } });

    it.each<[string, () => unknown, string]>([
      ['over http off loopback', () => 'http://idp.example/introspect', 'must use https: (plain http: is allowed only for loopback hosts with `allowHttpLoopback: true`)'],
      ['that is not a string', () => ['https://idp.example/introspect'], 'must be a non-empty URL string'],
      ['with credentials, on the loopback endpoint', () => idp.introspectionEndpoint.replace('http://', `http://api:${SECRET}@`), 'must not contain credentials'],
      ['with a fragment, on the loopback endpoint', () => `${idp.introspectionEndpoint}#x`, 'must not contain a fragment'],
    ])('answers an opaque token 503 naming the member and why, and never calls one %s', async (_label, value, why) => {
      meta.setMetadata({ introspection_endpoint: value() });
      const token = activeFor(opaqueToken(), { iss: meta.issuer });
      const before = idp.requests.length;
      const result = await outcome(byDiscovery().verify(token));
      expect(result).toEqual({
        status: 503,
        reason: 'key_source_unavailable',
        message: `Issuer metadata \`introspection_endpoint\` ${why}, so it is not called; configure \`introspection.endpoint\``,
      });
      expect((result as { message: string }).message).not.toContain(SECRET);
      expect((result as { message: string }).message).not.toContain(token);
      expect(idp.requests.length).toBe(before);
    });

    it('still verifies JWTs with the discovered keys', async () => {
      meta.setMetadata({ introspection_endpoint: 'http://idp.example/introspect' });
      const v = byDiscovery();
      expect(await outcome(v.verify(signToken(KEY, { iss: meta.issuer })))).toBe('accepted');
      expect(await outcome(v.verify(opaqueToken()))).toMatchObject({ status: 503 });
      expect(meta.hits).toMatchObject({ discovery: 1, jwks: 1 });
    });
  });

  it('answers 503 with the old message when discovery finds no introspection_endpoint', async () => {
    const meta = await startIdpServer({ keys: [KEY] });
    try {
      const v = createVerifier({ issuer: meta.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: SECRET } });
      expect(await outcome(v.verify(opaqueToken()))).toEqual({
        status: 503,
        reason: 'key_source_unavailable',
        message: 'Issuer metadata has no introspection_endpoint; configure `introspection.endpoint`',
      });
    } finally {
      await meta.close();
    }
  });

  it('lets requireScopes read the scope of an introspected token', async () => {
    const guard = verifyToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: jwks.jwksUri, allowHttpLoopback: true, introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint } });
    const token = activeFor(opaqueToken(), { scope: 'read' });
    const app = createApp([guard, requireScopes('read')]);
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('introspection');
    expect((await request(createApp([guard, requireScopes('write')])).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  });
});

describe('OIDC userinfo', () => {
  const userinfoVerifier = () =>
    createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: jwks.jwksUri, allowHttpLoopback: true, userinfo: { endpoint: idp.userinfoEndpoint } });

  it('accepts a token the userinfo endpoint answers with a sub', async () => {
    const token = opaqueToken();
    idp.answerUserinfo(token, { kind: 'json', body: { sub: 'user-7', email: 'u@example.test' } });
    expect(await userinfoVerifier().verify(token)).toMatchObject({ source: 'userinfo', header: undefined, payload: { sub: 'user-7' } });
  });

  it('rejects a token the userinfo endpoint refuses with 401', async () => {
    expect(await outcome(userinfoVerifier().verify(opaqueToken()))).toMatchObject({ status: 401, reason: 'token_inactive' });
  });

  it('answers 503 when discovery finds no userinfo endpoint', async () => {
    const meta = await startIdpServer({ keys: [KEY] });
    try {
      const v = createVerifier({ issuer: meta.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, userinfo: true });
      const result = await outcome(v.verify(opaqueToken()));
      expect(result).toMatchObject({ status: 503 });
      expect((result as { message: string }).message).toContain('no userinfo_endpoint');
    } finally {
      await meta.close();
    }
  });

  it('answers 503 naming the reason when discovery finds a userinfo_endpoint the URL policy refuses', async () => {
    const meta = await startIdpServer({ keys: [KEY] });
    try {
      meta.setMetadata({ userinfo_endpoint: idp.userinfoEndpoint.replace('http://', 'http://u:p@') });
      const before = idp.requests.length;
      const v = createVerifier({ issuer: meta.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, userinfo: true });
      expect(await outcome(v.verify(opaqueToken()))).toMatchObject({
        status: 503,
        message: 'Issuer metadata `userinfo_endpoint` must not contain credentials, so it is not called; configure `userinfo.endpoint`',
      });
      expect(idp.requests.length).toBe(before);
    } finally {
      await meta.close();
    }
  });

  it('refuses, as malformed and without sending it, a token fetchUserinfo cannot put in a header', async () => {
    const before = idp.requests.length;
    const error = await fetchUserinfo('abc\ndef', idp.userinfoEndpoint, { timeoutMs: 1_000, maxBytes: 1_024, retryAfterSec: 5 }).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 401, reason: 'malformed', message: 'Token cannot be sent in an Authorization header' });
    expect(idp.requests.length).toBe(before);
  });

  it('answers 503 when the userinfo answer has no sub', async () => {
    const token = opaqueToken();
    idp.answerUserinfo(token, { kind: 'json', body: { name: 'x' } });
    expect(await outcome(userinfoVerifier().verify(token))).toMatchObject({ status: 503 });
  });
});

describe('opaque-token options', () => {
  const base = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: 'https://issuer.test/jwks' };

  it.each([
    ['introspection and userinfo together', { ...base, introspection: { clientId: 'a', clientSecret: 'b' }, userinfo: true }, 'not both'],
    ['a missing clientSecret', { ...base, introspection: { clientId: 'a' } }, '`introspection.clientSecret` is required'],
    ['an unknown introspection option', { ...base, introspection: { clientId: 'a', clientSecret: 'b', secret: 'c' } }, 'unknown option `secret`'],
    ["tokenFormat 'opaque' without a way to check", { ...base, tokenFormat: 'opaque' }, 'needs `introspection` or `userinfo`'],
    ['two issuers with opaque paths', { issuers: [{ ...base, userinfo: true }, { ...base, issuer: 'https://b.test', userinfo: true }] }, 'only one `issuers` entry'],
    // Node fires a timer longer than 2³¹ − 1 ms at once: every call would time out.
    ['a timeout no timer can wait', { ...base, introspection: { clientId: 'a', clientSecret: 'b', timeout: 2 ** 31 } }, '`introspection.timeout` must be a number ≥ 1 and ≤ 2147483647'],
    ['a fractional cacheMaxEntries', { ...base, userinfo: { cacheMaxEntries: 10.5 } }, '`userinfo.cacheMaxEntries` must be an integer ≥ 1'],
    ['a fractional maxResponseBytes', { ...base, introspection: { clientId: 'a', clientSecret: 'b', maxResponseBytes: 1024.5 } }, '`introspection.maxResponseBytes` must be an integer ≥ 1'],
  ])('throws ConfigError for %s', (_label, options, message) => {
    expect(() => createVerifier(options as VerifyTokenOptions)).toThrow(ConfigError);
    expect(() => createVerifier(options as VerifyTokenOptions)).toThrow(message);
  });

  it('never puts the client secret in a ConfigError', () => {
    try {
      createVerifier({ ...base, introspection: { clientId: 'a', clientSecret: 'TOPSECRET', endpoint: 'http://idp.test/introspect' } });
    } catch (err) {
      expect((err as Error).message).not.toContain('TOPSECRET');
      return;
    }
    throw new Error('expected a ConfigError');
  });
});
