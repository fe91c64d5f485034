import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier, KeySourceError, verifyToken, type IssuerOptions, type VerifyTokenOptions } from '../lib/index.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { sharedKey } from './helpers/keys.js';
import { NOW, signToken } from './helpers/tokens.js';
import { rejection } from './helpers/outcome.js';

const KEY_A = sharedKey('a1');
const KEY_B = sharedKey('b1', 'ES256');
const AUDIENCE_A = 'https://orders.api.test';
const AUDIENCE_B = 'partner-7';
/** A bare host name, as wallet-login issuers use: its keys are given by `jwksUri`. */
const ISSUER_B = 'auth.wallet.test';

// A: an OIDC issuer found by discovery. B: a bare-name issuer with a fixed JWKS URL.
// C: a live server nobody configured. Fresh servers and paths per test: every test starts cold.
let a: IdpServer;
let b: IdpServer;
let c: IdpServer;
let serial = 0;
beforeEach(async () => {
  serial += 1;
  const start = (name: string, key: typeof KEY_A) => startIdpServer({ keys: [key], issuerPath: `/${name}${serial}`, jwksPath: `/${name}${serial}/jwks` });
  [a, b, c] = await Promise.all([start('a', KEY_A), start('b', KEY_B), start('c', KEY_A)]);
});
afterEach(async () => {
  await Promise.all([a.close(), b.close(), c.close()]);
});

function issuers(overrides: { a?: Partial<IssuerOptions>; b?: Partial<IssuerOptions> } = {}): IssuerOptions[] {
  return [
    { issuer: a.issuer, audience: AUDIENCE_A, ...overrides.a },
    { issuer: ISSUER_B, audience: AUDIENCE_B, jwksUri: b.jwksUri, algorithms: ['ES256'], clockTolerance: 120, ...overrides.b },
  ];
}

function options(extra: Partial<VerifyTokenOptions> = {}): VerifyTokenOptions {
  return { issuers: issuers(), clockTolerance: 0, allowHttpLoopback: true, ...extra };
}

const tokenA = (claims: Record<string, unknown> = {}) => signToken(KEY_A, { iss: a.issuer, aud: AUDIENCE_A, ...claims });
const tokenB = (claims: Record<string, unknown> = {}) => signToken(KEY_B, { iss: ISSUER_B, aud: AUDIENCE_B, ...claims });
const totalHits = () => a.hits.total + b.hits.total + c.hits.total;

async function get(token: string, guardOptions: VerifyTokenOptions = options()) {
  return request(createApp([verifyToken(guardOptions)])).get('/me').set('Authorization', `Bearer ${token}`);
}

describe('several issuers in one middleware', () => {
  it.each([
    ['the discovered issuer', () => tokenA(), () => a.issuer],
    ['the bare-name issuer with a jwksUri', () => tokenB(), () => ISSUER_B],
  ])('accepts a token from %s', async (_label, token, issuer) => {
    const res = await get(token());
    expect(res.status).toBe(200);
    expect(res.body.payload.iss).toBe(issuer());
  });

  describe('each entry keeps its own policy', () => {
    it.each([
      ["A's token carrying B's audience", () => tokenA({ aud: AUDIENCE_B }), 'audience_mismatch'],
      ["B's token carrying A's audience", () => tokenB({ aud: AUDIENCE_A }), 'audience_mismatch'],
    ])('rejects %s', async (_label, token, reason) => {
      const res = await get(token());
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe(reason);
    });

    it.each([
      ['an ES256 token claiming the RS256-only issuer', () => signToken(KEY_B, { iss: a.issuer, aud: AUDIENCE_A })],
      ['an RS256 token claiming the ES256-only issuer', () => signToken(KEY_A, { iss: ISSUER_B, aud: AUDIENCE_B })],
    ])('rejects %s before any key lookup', async (_label, token) => {
      const res = await get(token());
      expect(res.body.reason).toBe('algorithm_not_allowed');
      expect(totalHits()).toBe(0);
    });

    it("verifies a token only with its own issuer's keys, never another configured issuer's", async () => {
      const res = await get(signToken(KEY_A, { iss: ISSUER_B, aud: AUDIENCE_B }, { alg: 'RS256' }), options({ issuers: issuers({ b: { algorithms: ['RS256', 'ES256'] } }) }));
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('key_not_found');
      expect(a.hits.total).toBe(0);
    });

    it('applies an entry’s own clockTolerance: 30 s past exp passes B (120 s) and fails A (top-level 0 s)', async () => {
      const expired = { iat: NOW - 300, exp: NOW - 30 };
      expect((await get(tokenB(expired))).status).toBe(200);
      const res = await get(tokenA(expired));
      expect(res.body.reason).toBe('token_expired');
    });

    it('accepts an audience-less token only from the entry that opts in', async () => {
      const guard = options({ issuers: issuers({ b: { dangerouslyAllowMissingAudience: true } }) });
      expect((await get(tokenB({ aud: undefined }), guard)).status).toBe(200);
      expect((await get(tokenA({ aud: undefined }), guard)).body.reason).toBe('claim_missing');
    });

    it("requires typ at+jwt only from the entry with typ: 'at+jwt'", async () => {
      const guard = options({ issuers: issuers({ a: { typ: 'at+jwt' } }) });
      expect((await get(tokenA({ client_id: 'c1', jti: 'j1' }), guard)).body.reason).toBe('type_invalid');
      expect((await get(tokenB(), guard)).status).toBe(200);
    });
  });

  describe('a token from an issuer that is not configured', () => {
    it.each([
      ['a live loopback IdP nobody configured', () => signToken(KEY_A, { iss: c.issuer, aud: AUDIENCE_A })],
      ['an issuer URL that differs only by a trailing slash', () => tokenA({ iss: `${a.issuer}/` })],
      ['the bare-name issuer spelled as a URL', () => tokenB({ iss: `https://${ISSUER_B}` })],
    ])('is rejected with 401 issuer_mismatch and no request to any server: %s', async (_label, token) => {
      const res = await get(token());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.body.reason).toBe('issuer_mismatch');
      expect(totalHits()).toBe(0);
    });

    it('is rejected with 401 claim_missing and no request when it has no iss', async () => {
      const res = await get(tokenA({ iss: undefined }));
      expect(res.body.reason).toBe('claim_missing');
      expect(totalHits()).toBe(0);
    });
  });
});

describe('verifier.ready()', () => {
  it('resolves after running discovery and loading every key set', async () => {
    await createVerifier(options()).ready();
    expect(a.hits).toMatchObject({ discovery: 1, jwks: 1 });
    expect(b.hits).toMatchObject({ discovery: 0, jwks: 1 });
  });

  it('leaves nothing to fetch for the first requests afterwards', async () => {
    const verifier = createVerifier(options());
    await verifier.ready();
    a.resetHits();
    b.resetHits();
    await verifier.verify(tokenA());
    await verifier.verify(tokenB());
    expect(totalHits()).toBe(0);
  });

  it('warms verifyToken middleware built with the same options: its first requests fetch nothing', async () => {
    await createVerifier(options()).ready();
    a.resetHits();
    b.resetHits();
    expect((await get(tokenA())).status).toBe(200);
    expect((await get(tokenB())).status).toBe(200);
    expect(totalHits()).toBe(0);
  });

  it('rejects with a KeySourceError naming the issuer and the metadata URL when discovery fails', async () => {
    a.setFault({ kind: 'status', status: 500 }, 'discovery');
    const err = await rejection(createVerifier(options()).ready());
    expect(err).toBeInstanceOf(KeySourceError);
    expect((err as Error).message).toBe(
      `Issuer "${a.issuer}" is not ready: Issuer metadata is unavailable: GET ${a.issuer}/.well-known/openid-configuration answered HTTP 500`,
    );
  });

  it('rejects with a KeySourceError naming the issuer and the JWKS URL when its keys cannot be fetched', async () => {
    b.setFault({ kind: 'reset' }, 'jwks');
    const err = await rejection(createVerifier(options()).ready());
    expect(err).toBeInstanceOf(KeySourceError);
    expect((err as Error).message).toMatch(`Issuer "${ISSUER_B}" is not ready: Signing keys are unavailable`);
    expect((err as Error).message).toContain(`GET ${b.jwksUri} failed`);
  });

  it('rejects when the metadata names another issuer', async () => {
    a.setMetadata({ issuer: `${a.issuer}/` });
    const err = await rejection(createVerifier(options()).ready());
    expect(err).toBeInstanceOf(KeySourceError);
    expect((err as Error).message).toContain('names another issuer');
  });

  it('succeeds on a later call once the key source is back', async () => {
    b.setFault({ kind: 'status', status: 503 }, 'jwks');
    const verifier = createVerifier(options({ issuers: issuers({ b: { jwks: { cooldown: 50 } } }) }));
    await rejection(verifier.ready());
    b.setFault(null);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await expect(verifier.ready()).resolves.toBeUndefined();
  });
});
