import { createHash } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../lib/index.js';
import { createApp } from '../helpers/app.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/tokens.js';
import { compact, fcParams, outcomeOf, POLICY, record, ROGUE_RS, RS, useFuzzVerifier, VALID_TOKENS } from './support.js';

// Proof-of-possession tokens are not bearer tokens: a DPoP-bound (RFC 9449 §6) or
// certificate-bound (RFC 8705 §3) access token is useless to a thief only if every resource
// server checks the binding. bearer-guard cannot check it, so it must refuse such tokens rather
// than accept a stolen one as a plain bearer token (RFC 9449 §7.2).

const fuzz = useFuzzVerifier('proof-of-possession');
const report = fuzz.report;

const thumbprint = createHash('sha256').update(JSON.stringify({ e: ROGUE_RS.jwk.e, kty: 'RSA', n: ROGUE_RS.jwk.n })).digest('base64url');

/** RFC 7800 confirmation members: DPoP's jkt, mTLS's x5t#S256, a whole jwk, a jku, a kid, and anything else. */
const confirmation = fc.oneof(
  fc.constantFrom<unknown>(
    { jkt: thumbprint },
    { 'x5t#S256': createHash('sha256').update('certificate').digest('base64url') },
    { jwk: ROGUE_RS.jwk },
    { jku: 'https://client.example/jwks', kid: 'c1' },
    { kid: 'c1' },
    {},
  ),
  fc.dictionary(fc.constantFrom('jkt', 'x5t#S256', 'jwk', 'jwe', 'jku', 'kid', 'osc'), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }),
);

function boundToken(cnf: unknown): string {
  return compact({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'client-1', client_id: 'client-1', jti: 'j', iat: NOW, exp: NOW + 300, cnf }, { key: RS, alg: 'RS256' });
}

describe('proof-of-possession tokens', () => {
  it('rejects every validly signed token that carries a cnf confirmation claim, whatever its members', async () => {
    const stats = report.property('cnf-bound tokens');
    await fc.assert(fc.asyncProperty(confirmation, async (cnf) => {
      const [settled] = await Promise.allSettled([fuzz.verifier.verify(boundToken(cnf))]);
      return record(stats, outcomeOf(settled!), false);
    }), fcParams('signing'));
    await report.expectNoUnhandledRejection();
  });

  it('answers a DPoP-bound token sent with the Bearer scheme with 401 invalid_token', async () => {
    const app = createApp([verifyToken({ ...POLICY, jwksUri: fuzz.jwksUri, allowHttpLoopback: true })]);
    const res = await request(app).get('/me').set('Authorization', `Bearer ${boundToken({ jkt: thumbprint })}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers the DPoP scheme (RFC 9449 §7.1) like no Bearer credentials: 401 without access', async () => {
    const app = createApp([verifyToken({ ...POLICY, jwksUri: fuzz.jwksUri, allowHttpLoopback: true })]);
    const res = await request(app).get('/me').set('Authorization', `DPoP ${VALID_TOKENS[0]}`).set('DPoP', 'proof');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });
});
