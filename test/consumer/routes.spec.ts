import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyToken } from 'bearer-guard';
import { BAD_TOKEN_KINDS, createTestIssuer, type TestIssuer } from 'bearer-guard/testing';

// The app under test; yours comes from your own code, with the issuer URL from its config.
function createApp(issuer: string): express.Express {
  const app = express();
  // A short key-fetch deadline (default 5 s) keeps the 'slow' outage test fast.
  const auth = verifyToken({ issuer, audience: 'https://api.example', allowHttpLoopback: true, jwks: { timeout: 500 } });
  app.get('/me', auth, (req, res) => {
    res.json({ sub: req.auth?.payload.sub });
  });
  return app;
}

describe('GET /me', () => {
  let issuer: TestIssuer;
  let app: express.Express;

  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: 'https://api.example' });
    app = createApp(issuer.issuer);
  });
  afterAll(() => issuer.close());

  it('answers 200 with the caller for a valid token', async () => {
    const res = await request(app).get('/me').auth(issuer.sign({ sub: 'user-42' }), { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'user-42' });
  });

  it('answers 401 without a token', async () => {
    const res = await request(app).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it.each(BAD_TOKEN_KINDS)('answers 401 invalid_token for a bad token: %s', async (kind) => {
    const res = await request(app).get('/me').auth(issuer.badToken(kind), { type: 'bearer' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});

// A fresh issuer per test: verifiers cache discovery and keys per issuer URL.
describe('GET /me when the identity provider changes', () => {
  let issuer: TestIssuer;

  beforeEach(async () => {
    issuer = await createTestIssuer({ audience: 'https://api.example' });
  });
  afterEach(() => issuer.close());

  it.each(['down', 'slow', 'garbage'] as const)('answers 503 with Retry-After while it is %s', async (mode) => {
    issuer.setOutage(mode);
    const res = await request(createApp(issuer.issuer)).get('/me').auth(issuer.sign(), { type: 'bearer' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('accepts tokens of a new key after a rotation, then refuses those of the retired key', async () => {
    const app = createApp(issuer.issuer);
    const before = issuer.sign();
    await request(app).get('/me').auth(before, { type: 'bearer' }).expect(200);
    issuer.rotateKeys();
    await request(app).get('/me').auth(issuer.sign(), { type: 'bearer' }).expect(200);
    await request(app).get('/me').auth(before, { type: 'bearer' }).expect(401);
    expect(issuer.requestCounts.jwks).toBe(2);
  });
});
