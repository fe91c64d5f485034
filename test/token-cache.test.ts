import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, requireScopes, verifyToken, type VerifyTokenOptions } from '../lib/index.js';
import { createTokenCache } from '../lib/token-cache.js';
import type { AuthResult } from '../lib/types.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, verifierOptions } from './helpers/idp-server.js';
import { useIdpServer } from './helpers/use-idp-server.js';
import { sharedKey } from './helpers/keys.js';
import { NOW, signToken, TEST_AUDIENCE } from './helpers/tokens.js';
import { reasonOf } from './helpers/outcome.js';

const KEY = sharedKey('k1');
const NEXT_KEY = sharedKey('k2');
const idp = useIdpServer({ keys: [KEY] });

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function verifier(options: Partial<VerifyTokenOptions> = {}) {
  return createVerifier({ ...verifierOptions(idp), ...options });
}

/** Counts the RSA checks: every call of jsonwebtoken.verify is one. */
function countSignatureChecks() {
  return vi.spyOn(jwt, 'verify');
}

describe('verified-token cache', () => {
  it('answers a reused token without a second signature check', async () => {
    const v = verifier();
    const token = signToken(KEY);
    await v.verify(token);
    const checks = countSignatureChecks();
    const again = await v.verify(token);
    expect(again.payload.sub).toBe('user-1');
    expect(checks).not.toHaveBeenCalled();
  });

  it('hands out a frozen result, so no request can change what the next one is served', async () => {
    const v = verifier();
    const token = signToken(KEY, { roles: ['reader'] });
    const first = await v.verify(token);
    expect(() => {
      (first.payload as { sub: string }).sub = 'admin';
    }).toThrow(TypeError);
    expect(() => (first.payload.roles as string[]).push('admin')).toThrow(TypeError);
    expect((await v.verify(token)).payload).toMatchObject({ sub: 'user-1', roles: ['reader'] });
  });

  it('types the result as read-only, so writing to it fails to compile (npm run typecheck)', async () => {
    const result = await verifier().verify(signToken(KEY));
    expect(() => {
      // @ts-expect-error payload members are read-only
      result.payload.sub = 'admin';
    }).toThrow(TypeError);
    expect(() => {
      // @ts-expect-error req.auth itself is read-only
      result.token = 'another';
    }).toThrow(TypeError);
  });

  it('checks every token again when tokenCache is false', async () => {
    const v = verifier({ tokenCache: false });
    const token = signToken(KEY);
    await v.verify(token);
    const checks = countSignatureChecks();
    await v.verify(token);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('misses, and rejects, a cached token whose signature was changed', async () => {
    const v = verifier();
    const token = signToken(KEY);
    await v.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = signature[middle] === 'A' ? 'B' : 'A';
    const tampered = `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`;
    expect(await reasonOf(v.verify(tampered))).toBe('signature_invalid');
  });

  it('rejects a cached token once it has expired', async () => {
    const v = verifier({ clockTolerance: 0 });
    const token = signToken(KEY, { exp: NOW + 30 });
    await v.verify(token);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((NOW + 31) * 1000);
    expect(await reasonOf(v.verify(token))).toBe('token_expired');
  });

  it('rejects a cached token once it is older than maxTokenAge', async () => {
    const v = verifier({ clockTolerance: 0, maxTokenAge: 60 });
    const token = signToken(KEY, { iat: NOW, exp: NOW + 3600 });
    await v.verify(token);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((NOW + 61) * 1000);
    expect(await reasonOf(v.verify(token))).toBe('token_too_old');
  });

  it('drops an entry once the key that verified it has left the key set', async () => {
    const rotating = await startIdpServer({ keys: [KEY] });
    try {
      const v = verifier({ jwksUri: rotating.jwksUri, jwks: { cacheMaxAge: 50 } });
      const oldToken = signToken(KEY);
      await v.verify(oldToken);
      rotating.setKeys(NEXT_KEY);
      await new Promise((resolve) => setTimeout(resolve, 80));
      // A token under the new key makes the verifier refresh the expired set.
      await v.verify(signToken(NEXT_KEY));
      expect(await reasonOf(v.verify(oldToken))).toBe('key_not_found');
    } finally {
      await rotating.close();
    }
  });

  it('never serves a token accepted for one audience to a verifier of another', async () => {
    const token = signToken(KEY, { aud: TEST_AUDIENCE });
    await verifier().verify(token);
    expect(await reasonOf(verifier({ audience: 'https://other-api.test' }).verify(token))).toBe('audience_mismatch');
  });

  it('never caches a failure: a rejected token is checked again each time', async () => {
    const v = verifier();
    const forged = signToken(KEY, {}, { signingKey: NEXT_KEY.privateKey });
    const checks = countSignatureChecks();
    expect(await reasonOf(v.verify(forged))).toBe('signature_invalid');
    expect(await reasonOf(v.verify(forged))).toBe('signature_invalid');
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('still runs requireScopes and audit hooks on every cache hit', async () => {
    const onVerified = vi.fn();
    const guard = verifyToken({ ...verifierOptions(idp), onVerified });
    const app = createApp([guard, requireScopes('write')]);
    const token = signToken(KEY, { scope: 'read' });
    for (let i = 0; i < 3; i++) {
      expect((await request(app).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(403);
    }
    expect(onVerified.mock.calls.map(([event]) => event.cached)).toEqual([false, true, true]);
  });
});

describe('createTokenCache', () => {
  const entry = (token: string) => ({
    result: { token, header: undefined, payload: { exp: NOW + 60 }, source: 'jwt' } as AuthResult,
    key: 'key',
    policy: { clockTolerance: 0, maxTokenAge: undefined },
    isKeyCurrent: () => true,
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = createTokenCache<string>(2);
    cache.set('a', entry('a'));
    cache.set('b', entry('b'));
    cache.get('a', NOW);
    cache.set('c', entry('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('a', NOW)?.token).toBe('a');
    expect(cache.get('b', NOW)).toBeUndefined();
  });

  it('stores nothing with maxEntries 0', () => {
    const cache = createTokenCache<string>(0);
    cache.set('a', entry('a'));
    expect(cache.size).toBe(0);
  });

  it('holds 10 000 entries without growing past its bound', () => {
    const cache = createTokenCache<string>(10_000);
    for (let i = 0; i < 25_000; i++) cache.set(`token-${i}`, entry(`token-${i}`));
    expect(cache.size).toBe(10_000);
    expect(cache.get('token-24999', NOW)).toBeDefined();
    expect(cache.get('token-0', NOW)).toBeUndefined();
  });
});
