// Source: context/sophon-jwt-access-tokens.md. A wallet-login server issues RS256 access tokens:
// `iss` is the bare host name `auth.sophon.xyz` (not a URL), `aud` the partner id, `sub` the
// user's smart-wallet address, `scope` the space-separated data scopes the user granted. Partners
// verify them locally with the JWKS at /.well-known/jwks.json, with a jwks-rsa client configured
// as the doc shows: that doc calls `getSigningKey()` without a kid.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createJWKSClient, requireScopes, verifyToken, type JWKSClient } from '../../lib/index.js';
import { createApp } from '../helpers/app.js';
import { startIdpServer, type IdpServer } from '../helpers/idp-server.js';
import { sharedKey } from '../helpers/keys.js';
import { NOW, signToken } from '../helpers/tokens.js';

const ISSUER = 'auth.sophon.xyz';
const PARTNER_ID = 'my-partner-id';
const WALLET = '0x8F3a4b6C1d2E5f7089aB0c1D2e3F4a5B6c7D8e9F';
const KEY = sharedKey('sophon');
const SECOND_KEY = sharedKey('sophon-next');

let server: IdpServer;
let jwksClient: JWKSClient;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  server = await startIdpServer({ keys: [KEY], jwksPath: '/.well-known/jwks.json' });
  // The doc's jwks-rsa settings, pasted in unchanged (plus the loopback opt-in this test needs).
  jwksClient = createJWKSClient({
    jwksUri: server.jwksUri,
    rateLimit: true,
    cache: true,
    cacheMaxEntries: 5,
    cacheMaxAge: 600000,
    allowHttpLoopback: true,
  });
  app = createApp([verifyToken({ issuer: ISSUER, audience: PARTNER_ID, jwksClient }), requireScopes('email')]);
});
afterAll(() => server.close());

/** A token as the doc describes it: no kid in the header. */
function walletToken(claims: Record<string, unknown> = {}): string {
  return signToken(KEY, { iss: ISSUER, aud: PARTNER_ID, sub: WALLET, iat: NOW, exp: NOW + 4 * 3600, scope: 'email twitter', ...claims }, { header: { kid: undefined } });
}

function get(token: string) {
  return request(app).get('/me').set('Authorization', `Bearer ${token}`);
}

describe('wallet-login access tokens', () => {
  it('answers 200 at a route requiring email for a token granting "email twitter"', async () => {
    const res = await get(walletToken());
    expect(res.status).toBe(200);
  });

  it('puts the wallet address in req.auth.payload.sub', async () => {
    const res = await get(walletToken());
    expect(res.body.payload).toMatchObject({ iss: ISSUER, aud: PARTNER_ID, sub: WALLET, scope: 'email twitter' });
    expect(res.body.payload.sub).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('answers 403 insufficient_scope for a token granting only "twitter discord"', async () => {
    const res = await get(walletToken({ scope: 'twitter discord' }));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="email"');
  });

  it('answers 403 for a scope that only contains the word: "gmail" is not "email"', async () => {
    const res = await get(walletToken({ scope: 'gmail' }));
    expect(res.status).toBe(403);
  });

  it("rejects a token issued for another partner's id", async () => {
    const res = await get(walletToken({ aud: 'another-partner' }));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });

  it('rejects a token whose iss is the host name written as a URL', async () => {
    const res = await get(walletToken({ iss: `https://${ISSUER}` }));
    expect(res.body.reason).toBe('issuer_mismatch');
  });

  it('rejects an expired token', async () => {
    const res = await get(walletToken({ iat: NOW - 8 * 3600, exp: NOW - 3600 }));
    expect(res.body.reason).toBe('token_expired');
  });

  it('refuses to start when the bare-host issuer has no key location, and says why', () => {
    expect(() => verifyToken({ issuer: ISSUER, audience: PARTNER_ID })).toThrow(ConfigError);
    expect(() => verifyToken({ issuer: ISSUER, audience: PARTNER_ID })).toThrow('"auth.sophon.xyz" is not a URL, so its keys cannot be discovered: give `jwksUri`');
  });
});

describe('tokens without kid', () => {
  it('are verified when the key set holds exactly one key, as getSigningKey() without kid expects', async () => {
    const res = await get(walletToken());
    expect(res.status).toBe(200);
    expect(res.body.header.kid).toBeUndefined();
  });

  it('are rejected with key_not_found when the key set holds two keys', async () => {
    const twoKeys = await startIdpServer({ keys: [KEY, SECOND_KEY], jwksPath: '/.well-known/jwks.json' });
    try {
      const client = createJWKSClient({ jwksUri: twoKeys.jwksUri, cacheMaxEntries: 5, cacheMaxAge: 600000, allowHttpLoopback: true });
      const guard = createApp([verifyToken({ issuer: ISSUER, audience: PARTNER_ID, jwksClient: client })]);
      const res = await request(guard).get('/me').set('Authorization', `Bearer ${walletToken()}`);
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('key_not_found');
    } finally {
      await twoKeys.close();
    }
  });
});
