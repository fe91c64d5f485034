import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ConfigError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isAuthError,
  KeySourceError,
  UnauthorizedError,
} from '../lib/index.js';
import { buildChallenge } from '../lib/challenge.js';

describe('error classes', () => {
  it.each([
    ['UnauthorizedError', new UnauthorizedError(), 401, undefined, 'Bearer realm="api"'],
    ['InvalidRequestError', new InvalidRequestError('authorization_duplicated', 'Two Authorization headers'), 400, 'invalid_request', 'Bearer realm="api", error="invalid_request", error_description="Two Authorization headers"'],
    ['InvalidTokenError', new InvalidTokenError('token_expired', 'Token expired'), 401, 'invalid_token', 'Bearer realm="api", error="invalid_token", error_description="Token expired"'],
    ['InsufficientScopeError', new InsufficientScopeError(['read', 'write']), 403, 'insufficient_scope', 'Bearer realm="api", error="insufficient_scope", error_description="Token lacks scope: read write", scope="read write"'],
  ])('%s carries status, code and its RFC 6750 challenge', (_name, error, status, code, challenge) => {
    expect(error).toBeInstanceOf(AuthError);
    expect(error.status).toBe(status);
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
    expect(error.expose).toBe(true);
    expect(error.headers).toEqual({ 'WWW-Authenticate': challenge });
  });

  it('gives a KeySourceError status 503 and Retry-After but no challenge', () => {
    const error = new KeySourceError('JWKS unreachable', 2.2);
    expect(error.status).toBe(503);
    expect(error.reason).toBe('key_source_unavailable');
    expect(error.headers).toEqual({ 'Retry-After': '3' });
  });

  it('uses the realm set with withRealm()', () => {
    expect(new UnauthorizedError().withRealm('orders').headers['WWW-Authenticate']).toBe('Bearer realm="orders"');
  });

  it('keeps the original failure as cause', () => {
    const cause = new Error('inner');
    expect(new InvalidTokenError('signature_invalid', 'Bad signature', { cause }).cause).toBe(cause);
  });

  it('serialises to a body without the stack', () => {
    expect(JSON.parse(JSON.stringify(new InvalidTokenError('audience_mismatch', 'Wrong audience')))).toEqual({
      error: 'invalid_token',
      reason: 'audience_mismatch',
      message: 'Wrong audience',
    });
  });

  it('tells auth errors from config errors', () => {
    expect(isAuthError(new UnauthorizedError())).toBe(true);
    expect(isAuthError(new ConfigError('x'))).toBe(false);
    expect(isAuthError(new Error('x'))).toBe(false);
  });
});

describe('buildChallenge', () => {
  it('keeps only characters RFC 6750 allows in quoted values', () => {
    expect(buildChallenge('Bearer', { error_description: 'Token has no "exp" claim\\\r\nSet-Cookie: x=1' })).toBe(
      'Bearer error_description="Token has no \'exp\' claimSet-Cookie: x=1"',
    );
  });

  it('returns the bare scheme without parameters', () => {
    expect(buildChallenge('Bearer', {})).toBe('Bearer');
  });
});
