// Source: context/opensecret-third-party-tokens.md. An app calls `generateThirdPartyToken(audience?)`
// for a signed-in user and sends the RS256 JWT to a third-party backend, which verifies it against
// the issuer's JWKS at /.well-known/jwks.json. The audience is optional: tokens come with an `aud`
// (the service's URL) or without one, and carry custom claims about the user.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../lib/index.js';
import { jsonErrorHandler } from '../helpers/app.js';
import { startIdpServer, type IdpServer } from '../helpers/idp-server.js';
import { sharedKey } from '../helpers/keys.js';
import { NOW, signToken } from '../helpers/tokens.js';

/** A stand-in: read the real `iss` from one of your tokens with `decodeJWT(token).iss`. */
const ISSUER = 'https://opensecret.test';
const SERVICE = 'https://api.yourservice.test';
const KEY = sharedKey('opensecret');
const USER_CLAIMS = { email: 'ada@example.com', name: 'Ada Lovelace', email_verified: true };

let server: IdpServer;
let app: express.Express;

beforeAll(async () => {
  server = await startIdpServer({ keys: [KEY], jwksPath: '/.well-known/jwks.json' });
  const jwksUri = server.jwksUri;
  app = express();
  const echo: express.RequestHandler = (req, res) => res.json({ sub: req.auth?.payload.sub, payload: req.auth?.payload });
  // Tokens generated for this service only: the default, and what the doc recommends.
  app.get('/data', verifyToken({ issuer: ISSUER, audience: SERVICE, jwksUri, allowHttpLoopback: true }), echo);
  // A route that also takes "general-purpose" tokens generated without an audience: an explicit opt-in.
  app.get('/profile', verifyToken({ issuer: ISSUER, audience: SERVICE, jwksUri, allowHttpLoopback: true, dangerouslyAllowMissingAudience: true }), echo);
  app.use(jsonErrorHandler);
});
afterAll(() => server.close());

/** What `os.generateThirdPartyToken(audience)` hands the app: iss, sub (user id), aud if given, iat, exp, user claims. */
function thirdPartyToken(audience: string | string[] | undefined, claims: Record<string, unknown> = {}): string {
  return signToken(KEY, { iss: ISSUER, sub: 'user-7f3c', aud: audience, iat: NOW, exp: NOW + 900, ...USER_CLAIMS, ...claims });
}

function get(path: string, token: string) {
  return request(app).get(path).set('Authorization', `Bearer ${token}`);
}

describe('tokens generated for this service (with aud)', () => {
  it('are accepted', async () => {
    const res = await get('/data', thirdPartyToken(SERVICE));
    expect(res.status).toBe(200);
    expect(res.body.sub).toBe('user-7f3c');
  });

  it('hand their custom user claims to the route in req.auth.payload', async () => {
    const res = await get('/data', thirdPartyToken(SERVICE));
    expect(res.body.payload).toMatchObject(USER_CLAIMS);
  });

  it('are accepted when aud is an array that contains this service', async () => {
    const res = await get('/data', thirdPartyToken(['https://other.test', SERVICE]));
    expect(res.status).toBe(200);
  });

  it('are rejected when generated for another service', async () => {
    const res = await get('/data', thirdPartyToken('https://api.example.com'));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });

  it('are rejected when signed with a key the issuer does not publish', async () => {
    const res = await get('/data', signToken(sharedKey('opensecret-forged'), { iss: ISSUER, aud: SERVICE }, { header: { kid: KEY.kid } }));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('signature_invalid');
  });
});

describe('tokens generated without audience', () => {
  it('are rejected by default with claim_missing', async () => {
    const res = await get('/data', thirdPartyToken(undefined));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('claim_missing');
  });

  it('are accepted on a route that sets dangerouslyAllowMissingAudience', async () => {
    const res = await get('/profile', thirdPartyToken(undefined));
    expect(res.status).toBe(200);
    expect(res.body.payload.aud).toBeUndefined();
  });

  it('do not make that route accept a token generated for another service', async () => {
    const res = await get('/profile', thirdPartyToken('https://api.example.com'));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });

  it('are still refused on that route once expired', async () => {
    const res = await get('/profile', thirdPartyToken(undefined, { iat: NOW - 3600, exp: NOW - 60 }));
    expect(res.body.reason).toBe('token_expired');
  });
});
