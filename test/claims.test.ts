import { describe, expect, it } from 'vitest';
import { checkClaims, type ClaimPolicy } from '../lib/claims.js';
import { InvalidTokenError } from '../lib/errors.js';
import type { JWTPayload } from '../lib/types.js';

const NOW = 1_800_000_000;
const POLICY: ClaimPolicy = {
  issuer: 'https://issuer.test',
  audiences: ['https://api.test', 'api-2'],
  allowMissingAudience: false,
  clockTolerance: 5,
  maxTokenAge: undefined,
  requiredClaims: [],
};
const VALID: JWTPayload = { iss: 'https://issuer.test', aud: 'https://api.test', sub: 'u', iat: NOW - 10, exp: NOW + 300 };

function reasonFor(claims: Record<string, unknown>, policy: Partial<ClaimPolicy> = {}): string | undefined {
  const payload = Object.fromEntries(Object.entries({ ...VALID, ...claims }).filter(([, v]) => v !== undefined));
  try {
    checkClaims(payload, { ...POLICY, ...policy }, NOW);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return (err as InvalidTokenError).reason;
  }
}

describe('checkClaims', () => {
  it('accepts a token whose claims all hold', () => {
    expect(reasonFor({})).toBeUndefined();
  });

  it.each([
    ['no iss', { iss: undefined }, 'claim_missing'],
    ['another iss', { iss: 'https://evil.test' }, 'issuer_mismatch'],
    ['an iss differing by a trailing slash', { iss: 'https://issuer.test/' }, 'issuer_mismatch'],
    ['an iss differing in case', { iss: 'https://ISSUER.test' }, 'issuer_mismatch'],
    ['no aud', { aud: undefined }, 'claim_missing'],
    ['another aud', { aud: 'https://other.test' }, 'audience_mismatch'],
    ['an aud that only contains ours as a substring', { aud: 'https://api.test.evil' }, 'audience_mismatch'],
    ['an empty aud array', { aud: [] }, 'audience_mismatch'],
    ['an aud array of strangers', { aud: ['a', 'b'] }, 'audience_mismatch'],
    ['a numeric aud', { aud: 42 }, 'claim_invalid'],
    ['an aud array holding a non-string', { aud: ['https://api.test', 1] }, 'claim_invalid'],
    ['no exp', { exp: undefined }, 'claim_missing'],
    ['a string exp', { exp: String(NOW + 300) }, 'claim_invalid'],
    ['an exp just outside the tolerance', { exp: NOW - 5 }, 'token_expired'],
    ['a nbf just outside the tolerance', { nbf: NOW + 6 }, 'token_not_yet_valid'],
    ['a non-numeric nbf', { nbf: 'soon' }, 'claim_invalid'],
    ['an iat just outside the tolerance', { iat: NOW + 6 }, 'issued_in_future'],
    ['a non-numeric iat', { iat: null }, 'claim_invalid'],
  ])('rejects a token with %s', (_label, claims, reason) => {
    expect(reasonFor(claims)).toBe(reason);
  });

  it.each([
    ['an aud array containing ours', { aud: ['other', 'api-2'] }],
    ['an exp just inside the tolerance', { exp: NOW - 4 }],
    ['a nbf just inside the tolerance', { nbf: NOW + 5 }],
    ['an iat just inside the tolerance', { iat: NOW + 5 }],
    ['no iat when no maxTokenAge is set', { iat: undefined }],
  ])('accepts a token with %s', (_label, claims) => {
    expect(reasonFor(claims)).toBeUndefined();
  });

  it('treats exp as exclusive when the tolerance is zero', () => {
    expect(reasonFor({ exp: NOW }, { clockTolerance: 0 })).toBe('token_expired');
    expect(reasonFor({ exp: NOW + 1 }, { clockTolerance: 0 })).toBeUndefined();
  });

  it('accepts a token without aud only when missing audiences are allowed', () => {
    expect(reasonFor({ aud: undefined }, { allowMissingAudience: true })).toBeUndefined();
    expect(reasonFor({ aud: 'https://other.test' }, { allowMissingAudience: true })).toBe('audience_mismatch');
  });

  it.each([
    [NOW - 3600, undefined],
    [NOW - 3606, 'token_too_old'],
    [undefined, 'claim_missing'],
  ])('bounds the age with maxTokenAge (iat %s → %s)', (iat, reason) => {
    expect(reasonFor({ iat }, { maxTokenAge: 3600 })).toBe(reason);
  });

  it('requires each listed claim to be present and not null', () => {
    expect(reasonFor({ jti: 'j1' }, { requiredClaims: ['jti', 'sub'] })).toBeUndefined();
    expect(reasonFor({}, { requiredClaims: ['jti'] })).toBe('claim_missing');
    expect(reasonFor({ jti: null }, { requiredClaims: ['jti'] })).toBe('claim_missing');
  });

  it('names the expiry time, never the token, in its message', () => {
    expect(() => checkClaims({ ...VALID, exp: NOW - 60 }, POLICY, NOW)).toThrow(`Token expired at ${new Date((NOW - 60) * 1000).toISOString()}`);
  });

  it.each([
    ['an exp', { exp: -8640000000001.5 }, 'Token expired'],
    ['an nbf', { nbf: 123456789012345680000 }, 'Token is not valid'],
  ])('shows no number for %s no date can hold (the raw value is token text)', (_label, claims, message) => {
    let thrown: unknown;
    try {
      checkClaims({ ...VALID, ...claims }, POLICY, NOW);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidTokenError);
    expect((thrown as Error).message).toBe(message);
  });

  it.each([
    ['sub', 42], ['sub', null], ['sub', { $ne: null }], ['jti', 7], ['client_id', ['api']], ['client_id', true],
  ])('refuses a `%s` of %o, which is not a string', (claim, value) => {
    expect(reasonFor({ [claim]: value })).toBe('claim_invalid');
  });

  it('accepts string `sub`, `jti` and `client_id`', () => {
    expect(reasonFor({ sub: '0xabc', jti: 'j1', client_id: 'api' })).toBeUndefined();
  });
});

describe('sender-constrained tokens', () => {
  it.each([
    ['a DPoP key thumbprint', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }],
    ['an mTLS certificate thumbprint', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
  ])('rejects a token bound to %s (cnf)', (_label, cnf) => {
    expect(reasonFor({ cnf })).toBe('claim_invalid');
  });
});
