// Source: context/oidc-client-credentials.txt. An application gets an access token with the OAuth 2.0
// client-credentials grant and calls a third-party API, which validates it locally against the
// ID service's JWKS. The ID service here is a real OpenID Provider (oidc-provider) on 127.0.0.1.
import type { RequestHandler } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalIdp, type LocalIdp } from '../../demo/local-idp.js';
import { requireScopes, verifyToken, type VerifyTokenOptions } from '../../lib/index.js';
import { createApp } from '../helpers/app.js';
import { startIdpServer, type IdpServer } from '../helpers/idp-server.js';
import { sharedKey } from '../helpers/keys.js';
import { NOW, signToken } from '../helpers/tokens.js';

const API = 'https://invoices.api.test';
const OTHER_API = 'https://reports.api.test';
/** The calling application; it sends its credentials as form parameters, as the doc's curl does. */
const CALLER = { clientId: 'billing-app', clientSecret: 'billing-app-secret' };
const IDP_OPTIONS = {
  clients: [{ ...CALLER, authMethod: 'client_secret_post' as const }],
  resources: { [API]: { scope: 'invoices:read invoices:write' }, [OTHER_API]: { scope: 'reports:read' } },
};

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}

describe('client-credentials JWT access tokens from a local OpenID Provider', () => {
  let idp: LocalIdp;
  beforeAll(async () => {
    idp = await startLocalIdp(IDP_OPTIONS);
  });
  afterAll(() => idp.close());

  /** The API's whole configuration: the issuer alone (discovery finds the JWKS) and its audience. */
  function app(options: Partial<VerifyTokenOptions> = {}, ...after: RequestHandler[]) {
    return createApp([verifyToken({ issuer: idp.issuer, audience: API, allowHttpLoopback: true, ...options }), ...after]);
  }

  const tokenFor = (resource: string | undefined, scope?: string) =>
    idp.getClientCredentialsToken({ ...CALLER, ...(resource !== undefined && { resource }), ...(scope !== undefined && { scope }) });

  it('accepts a token for this API, found by discovery from the issuer alone', async () => {
    const res = await request(app()).get('/me').set(...bearer(await tokenFor(API)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'jwt', header: { alg: 'RS256', typ: 'at+jwt' }, payload: { iss: idp.issuer, aud: API } });
  });

  it('identifies the calling application by sub, which equals its client_id', async () => {
    const res = await request(app()).get('/me').set(...bearer(await tokenFor(API)));
    expect(res.body.payload).toMatchObject({ sub: CALLER.clientId, client_id: CALLER.clientId });
  });

  it('rejects a token the IdP issued for another API', async () => {
    const res = await request(app()).get('/me').set(...bearer(await tokenFor(OTHER_API)));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(res.body.reason).toBe('audience_mismatch');
  });

  it('rejects an opaque token (asked for without a resource indicator) when only JWTs are configured', async () => {
    const opaque = await tokenFor(undefined);
    expect(opaque.split('.')).toHaveLength(1);
    const res = await request(app()).get('/me').set(...bearer(opaque));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('malformed');
  });

  it.each([
    ['lets through a route whose scope the token grants', 'invoices:read', 200],
    ['answers 403 at a route whose scope the token lacks', 'invoices:write', 403],
  ])('%s', async (_label, routeScope, status) => {
    const res = await request(app({}, requireScopes(routeScope))).get('/me').set(...bearer(await tokenFor(API, 'invoices:read')));
    expect(res.status).toBe(status);
  });

  describe("typ: 'at+jwt' strict mode (RFC 9068)", () => {
    it("accepts the IdP's tokens, which carry typ at+jwt and every claim RFC 9068 requires", async () => {
      const res = await request(app({ typ: 'at+jwt' })).get('/me').set(...bearer(await tokenFor(API)));
      expect(res.status).toBe(200);
    });

    it('rejects a plain JWT naming this issuer before looking up any key', async () => {
      const forged = signToken(sharedKey('not-the-idp'), { iss: idp.issuer, aud: API, client_id: CALLER.clientId, jti: 'j-1' });
      const jwksHits = idp.jwksHits;
      const res = await request(app({ typ: 'at+jwt' })).get('/me').set(...bearer(forged));
      expect(res.body.reason).toBe('type_invalid');
      expect(idp.jwksHits).toBe(jwksHits);
    });
  });
});

describe('signing key rotation at the OpenID Provider', () => {
  // A fresh IdP per test: its JWKS client (one per URL, process-wide) then starts cold, and the
  // 30 s cooldown between unknown-kid refetches of one test never reaches into the next.
  let idp: LocalIdp;
  let app: ReturnType<typeof createApp>;
  beforeEach(async () => {
    idp = await startLocalIdp(IDP_OPTIONS);
    app = createApp([verifyToken({ issuer: idp.issuer, audience: API, allowHttpLoopback: true })]);
    const warmUp = await request(app).get('/me').set(...bearer(await idp.getClientCredentialsToken({ ...CALLER, resource: API })));
    expect(warmUp.status).toBe(200);
    expect(idp.jwksHits).toBe(1);
  });
  afterEach(() => idp.close());

  const newToken = () => idp.getClientCredentialsToken({ ...CALLER, resource: API });
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

  it('accepts tokens signed with the new key after exactly one JWKS refetch, shared by concurrent requests', async () => {
    const newKid = await idp.rotateSigningKey();
    const tokens = await Promise.all([newToken(), newToken(), newToken()]);
    expect(tokens.map(kidOf)).toEqual([newKid, newKid, newKid]);
    const answers = await Promise.all(tokens.map((token) => request(app).get('/me').set(...bearer(token))));
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(idp.jwksHits).toBe(2);
    expect((await request(app).get('/me').set(...bearer(await newToken()))).status).toBe(200);
    expect(idp.jwksHits).toBe(2);
  });

  it('keeps accepting a token signed before the rotation while the old key stays published', async () => {
    const before = await newToken();
    await idp.rotateSigningKey();
    await request(app).get('/me').set(...bearer(await newToken()));
    const res = await request(app).get('/me').set(...bearer(before));
    expect(res.status).toBe(200);
  });

  it('rejects a token of a retired key once the new set is fetched', async () => {
    const before = await newToken();
    await idp.rotateSigningKey({ retirePrevious: true });
    await request(app).get('/me').set(...bearer(await newToken()));
    const res = await request(app).get('/me').set(...bearer(before));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
  });
});

describe("a service with the doc's own paths: issuer without trailing slash, /openid/jwks.json", () => {
  // The doc's example payload: { iss: "https://{id-service-url}", iat, exp, sub: client id, aud: client id }.
  const KEY = sharedKey('id-service');
  let service: IdpServer;
  beforeEach(async () => {
    service = await startIdpServer({ keys: [KEY], jwksPath: '/openid/jwks.json' });
  });
  afterEach(() => service.close());

  const docToken = (claims: Record<string, unknown> = {}) =>
    signToken(KEY, { iss: service.issuer, iat: NOW, exp: NOW + 604_799, sub: CALLER.clientId, aud: CALLER.clientId, ...claims });
  /** The aud of these tokens is the caller's client id: `audience` lists the applications this API accepts. */
  const guard = (options: Partial<VerifyTokenOptions> = {}) =>
    createApp([verifyToken({ issuer: service.issuer, audience: [CALLER.clientId, 'reporting-app'], allowHttpLoopback: true, ...options })]);

  it('finds /openid/jwks.json by discovery from the issuer URL', async () => {
    const res = await request(guard()).get('/me').set(...bearer(docToken()));
    expect(res.status).toBe(200);
    expect(service.requests).toEqual(['GET /.well-known/openid-configuration', 'GET /openid/jwks.json']);
  });

  it('verifies with jwksUri set to {issuer}/openid/jwks.json and no discovery', async () => {
    const res = await request(guard({ jwksUri: `${service.issuer}/openid/jwks.json` })).get('/me').set(...bearer(docToken()));
    expect(res.status).toBe(200);
    expect(service.hits.discovery).toBe(0);
  });

  it('rejects a token from an application that audience does not list', async () => {
    const res = await request(guard()).get('/me').set(...bearer(docToken({ sub: 'unknown-app', aud: 'unknown-app' })));
    expect(res.body.reason).toBe('audience_mismatch');
  });

  it('rejects a token whose iss adds a trailing slash to the issuer', async () => {
    const res = await request(guard()).get('/me').set(...bearer(docToken({ iss: `${service.issuer}/` })));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('issuer_mismatch');
  });
});
