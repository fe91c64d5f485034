import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, type VerifyTokenOptions } from '../lib/index.js';
import { startIntrospectionServer } from './helpers/introspection-server.js';
import { useServer } from './helpers/use-server.js';
import { reasonOf } from './helpers/outcome.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

// The `iat` rules of the JWT path (claims.ts `checkIssuedAt`), applied to introspection and
// userinfo answers: `iat` sane and not in the future; with `maxTokenAge`, required and bounded.

const SECRET = 's3cret-value';
const MAX_TOKEN_AGE = 60;
const TOLERANCE = 5;
const idp = useServer(() => startIntrospectionServer({ clientId: 'api', clientSecret: SECRET }), { name: 'introspection server' });
let counter = 0;
// Only Date is faked, at NOW: the boundaries below are to the second, and sockets stay real.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

type Source = 'introspection' | 'userinfo';

/** A fresh token that `source` answers with these claims over valid defaults. */
function tokenWith(source: Source, claims: Record<string, unknown>): string {
  counter += 1;
  const token = `opaque-claims-${counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
  const body = JSON.parse(JSON.stringify({ iss: TEST_ISSUER, sub: 'client-1', exp: NOW + 600, ...claims }));
  if (source === 'introspection') idp.answer(token, { kind: 'json', body: { active: true, aud: TEST_AUDIENCE, ...body } });
  else idp.answerUserinfo(token, { kind: 'json', body });
  return token;
}

function verifier(source: Source, options: Partial<VerifyTokenOptions> = {}) {
  const check = source === 'introspection'
    ? { introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint } }
    : { userinfo: { endpoint: idp.userinfoEndpoint } };
  return createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, allowHttpLoopback: true, tokenFormat: 'opaque', clockTolerance: TOLERANCE, ...check, ...options });
}

function callsFor(token: string): number {
  return idp.requests.filter((r) => r.form.get('token') === token || r.authorization === `Bearer ${token}`).length;
}

describe.each<Source>(['introspection', 'userinfo'])('the iat of a %s answer', (source) => {
  it.each([
    ['issued a day ago', 'token_too_old', { iat: NOW - 86_400 }],
    ['issued just past maxTokenAge + clockTolerance', 'token_too_old', { iat: NOW - MAX_TOKEN_AGE - TOLERANCE - 1 }],
    ['issued exactly maxTokenAge + clockTolerance ago', 'accepted', { iat: NOW - MAX_TOKEN_AGE - TOLERANCE }],
    ['issued 10 s ago', 'accepted', { iat: NOW - 10 }],
    ['without iat', 'claim_missing', { iat: undefined }],
    ['with an iat that is not a number', 'claim_invalid', { iat: 'yesterday' }],
    ['issued a day in the future', 'issued_in_future', { iat: NOW + 86_400, exp: NOW + 90_000 }],
  ])('with maxTokenAge, judges an answer %s: %s', async (_label, reason, claims) => {
    const token = tokenWith(source, claims);
    expect(await reasonOf(verifier(source, { maxTokenAge: MAX_TOKEN_AGE }).verify(token))).toBe(reason);
  });

  it.each([
    ['issued a day ago', 'accepted', { iat: NOW - 86_400 }],
    ['without iat', 'accepted', { iat: undefined }],
    ['with an iat that is not a number', 'claim_invalid', { iat: 'yesterday' }],
    ['issued clockTolerance ahead', 'accepted', { iat: NOW + TOLERANCE }],
    ['issued just beyond clockTolerance ahead', 'issued_in_future', { iat: NOW + TOLERANCE + 1 }],
  ])('without maxTokenAge, judges an answer %s: %s', async (_label, reason, claims) => {
    const token = tokenWith(source, claims);
    expect(await reasonOf(verifier(source).verify(token))).toBe(reason);
  });

  it('reuses a cached answer only while it is within maxTokenAge, then asks again and refuses it', async () => {
    const token = tokenWith(source, { iat: NOW - 30 });
    const v = verifier(source, { maxTokenAge: MAX_TOKEN_AGE });
    expect(await reasonOf(v.verify(token))).toBe('accepted');
    vi.setSystemTime((NOW + MAX_TOKEN_AGE + TOLERANCE - 30) * 1000 - 1);
    expect(await reasonOf(v.verify(token))).toBe('accepted');
    expect(callsFor(token)).toBe(1);
    vi.setSystemTime((NOW + MAX_TOKEN_AGE + TOLERANCE - 30 + 1) * 1000);
    expect(await reasonOf(v.verify(token))).toBe('token_too_old');
    expect(callsFor(token)).toBe(2);
  });
});
