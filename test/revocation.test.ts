import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  createRevocationList,
  createVerifier,
  StoreUnavailableError,
  verifyToken,
  type RevocationList,
  type RevocationListOptions,
  type VerifyTokenOptions,
} from '../lib/index.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { startIntrospectionServer, type IntrospectionServer } from './helpers/introspection-server.js';
import { sharedKey } from './helpers/keys.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { NOW, signToken, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';
import { reasonOf } from './helpers/outcome.js';

const KEY = sharedKey('k1');
const OTHER_ISSUER = 'https://other-issuer.test';
let idp: IdpServer;
let introspection: IntrospectionServer;
let redis: RedisServer;
const lists: RevocationList[] = [];
let counter = 0;

beforeAll(async () => {
  [idp, introspection, redis] = await Promise.all([startIdpServer({ keys: [KEY] }), startIntrospectionServer(), startRedisServer()]);
});
afterAll(async () => {
  await Promise.all(lists.map((list) => list.close()));
  await Promise.all([idp.close(), introspection.close(), redis.close()]);
});
afterEach(() => vi.useRealTimers());

function revocationList(options: RevocationListOptions = {}): RevocationList {
  const list = createRevocationList(options);
  lists.push(list);
  return list;
}

function verifier(revocations: RevocationList, options: Partial<VerifyTokenOptions> = {}) {
  return createVerifier({
    issuers: [
      { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri },
      { issuer: OTHER_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri },
    ],
    allowHttpLoopback: true,
    revocations,
    ...options,
  });
}

/** A token with a jti of its own, so that no test sees another's revocations. */
function token(claims: Record<string, unknown> = {}): { jwt: string; jti: string } {
  counter += 1;
  const jti = `jti-${counter}`;
  return { jwt: signToken(KEY, { jti, sub: `user-${counter}`, ...claims }), jti };
}

describe('createRevocationList without a store', () => {
  it('rejects a revoked token with 401 invalid_token, reason token_revoked', async () => {
    const revocations = revocationList();
    const { jwt, jti } = token();
    const app = createApp([verifyToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true, revocations })]);
    expect((await request(app).get('/me').set('Authorization', `Bearer ${jwt}`)).status).toBe(200);
    await revocations.revokeToken({ jti, exp: NOW + 300, iss: TEST_ISSUER });
    const res = await request(app).get('/me').set('Authorization', `Bearer ${jwt}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(res.body.reason).toBe('token_revoked');
  });

  it('never serves a revoked token from the verified-token cache', async () => {
    const revocations = revocationList();
    const v = verifier(revocations);
    const { jwt, jti } = token();
    await v.verify(jwt);
    await v.verify(jwt); // now a cache hit
    await revocations.revokeToken({ jti, exp: NOW + 300 });
    expect(await reasonOf(v.verify(jwt))).toBe('token_revoked');
  });

  it('matches a jti revoked with iss for that issuer only', async () => {
    const revocations = revocationList();
    const v = verifier(revocations);
    const mine = token();
    const theirs = signToken(KEY, { iss: OTHER_ISSUER, jti: mine.jti });
    await revocations.revokeToken({ jti: mine.jti, exp: NOW + 300, iss: TEST_ISSUER });
    expect(await reasonOf(v.verify(mine.jwt))).toBe('token_revoked');
    expect(await reasonOf(v.verify(theirs))).toBe('accepted');
  });

  it('matches a jti revoked without iss for every issuer', async () => {
    const revocations = revocationList();
    const v = verifier(revocations);
    const mine = token();
    const theirs = signToken(KEY, { iss: OTHER_ISSUER, jti: mine.jti });
    await revocations.revokeToken({ jti: mine.jti, exp: NOW + 300 });
    expect(await reasonOf(v.verify(mine.jwt))).toBe('token_revoked');
    expect(await reasonOf(v.verify(theirs))).toBe('token_revoked');
  });

  it.each([
    ['issued before `before`', { iat: NOW - 10 }, 'token_revoked'],
    ['issued at `before`', { iat: NOW }, 'accepted'],
    ['issued after `before`', { iat: NOW + 1 }, 'accepted'],
    ['without iat', { iat: undefined }, 'token_revoked'],
  ])('revokeSubject: a token of that subject %s is %s', async (_label, claims, expected) => {
    const revocations = revocationList();
    const v = verifier(revocations);
    await revocations.revokeSubject({ iss: TEST_ISSUER, sub: 'logged-out-user', before: NOW });
    expect(await reasonOf(v.verify(signToken(KEY, { sub: 'logged-out-user', ...claims })))).toBe(expected);
  });

  it('revokeSubject without `before` also revokes a token issued earlier in the current second', async () => {
    const revocations = revocationList();
    vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 + 700 }); // 0.7 s into the second NOW
    await revocations.revokeSubject({ iss: TEST_ISSUER, sub: 'logged-out-user' });
    expect(revocations.isRevoked({ iss: TEST_ISSUER, sub: 'logged-out-user', iat: NOW })).toBe(true);
    expect(revocations.isRevoked({ iss: TEST_ISSUER, sub: 'logged-out-user', iat: NOW + 1 })).toBe(false);
  });

  it('revokeSubject leaves the same sub at another issuer alone', async () => {
    const revocations = revocationList();
    const v = verifier(revocations);
    await revocations.revokeSubject({ iss: TEST_ISSUER, sub: 'shared-sub', before: NOW + 60 });
    expect(await reasonOf(v.verify(signToken(KEY, { iss: OTHER_ISSUER, sub: 'shared-sub' })))).toBe('accepted');
  });

  it('rejects a revoked opaque token by the jti of its introspection answer', async () => {
    const revocations = revocationList();
    const opaque = `opaque-revoked-${++counter}`;
    introspection.answer(opaque, { kind: 'json', body: { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'client-1', exp: NOW + 600, jti: 'opaque-jti' } });
    const v = createVerifier({
      issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true, revocations,
      introspection: { clientId: 'api', clientSecret: 's3cret-value', endpoint: introspection.introspectionEndpoint },
    });
    expect(await reasonOf(v.verify(opaque))).toBe('accepted');
    await revocations.revokeToken({ jti: 'opaque-jti', exp: NOW + 600, iss: TEST_ISSUER });
    expect(await reasonOf(v.verify(opaque))).toBe('token_revoked');
  });

  it('forgets a revocation once its token can no longer be accepted', async () => {
    const revocations = revocationList();
    const { jti } = token();
    await revocations.revokeToken({ jti, exp: NOW + 60 });
    expect(revocations.isRevoked({ jti, iss: TEST_ISSUER })).toBe(true);
    vi.useFakeTimers({ toFake: ['Date'], now: (NOW + 60) * 1000 + 11 * 60_000 });
    expect(revocations.isRevoked({ jti, iss: TEST_ISSUER })).toBe(false);
  });

  it('still holds a revocation within clockTolerance after exp', async () => {
    const revocations = revocationList();
    const { jti } = token();
    await revocations.revokeToken({ jti, exp: NOW + 60 });
    vi.useFakeTimers({ toFake: ['Date'], now: (NOW + 65) * 1000 });
    expect(revocations.isRevoked({ jti, iss: TEST_ISSUER })).toBe(true);
  });

  it.each([
    ['an empty jti', () => revocationList().revokeToken({ jti: '', exp: NOW })],
    ['an exp that is not a number', () => revocationList().revokeToken({ jti: 'x', exp: '1' as never })],
    ['a subject without sub', () => revocationList().revokeSubject({ iss: TEST_ISSUER } as never)],
    ['a before that is not a number', () => revocationList().revokeSubject({ iss: TEST_ISSUER, sub: 'x', before: '1' as never })],
  ])('throws TypeError for %s', (_label, call) => {
    expect(call).toThrow(TypeError);
  });

  it.each([
    ['an unknown option', { maxStaleness: 1000, onStal: 'serve' }, /unknown option `onStal`/],
    ['an onStale that is neither serve nor reject', { onStale: 'ignore' }, /`onStale` must be 'serve' or 'reject'/],
    ['a syncInterval not shorter than maxStaleness', { syncInterval: 1000, maxStaleness: 1000 }, /`syncInterval` must be shorter/],
    ['a store that is not a shared store', { store: {} }, /`store` must be a shared store/],
  ])('createRevocationList refuses %s with ConfigError', (_label, options, message) => {
    expect(() => createRevocationList(options as never)).toThrow(ConfigError);
    expect(() => createRevocationList(options as never)).toThrow(message);
  });

  it('verifyToken refuses revocations that do not come from createRevocationList', () => {
    expect(() => verifyToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, revocations: { isRevoked: () => false } as never })).toThrow(/`revocations` must come from `createRevocationList\(\)`/);
  });
});

describe('createRevocationList with a store', () => {
  it('loads the whole shared list before it trusts its mirror', async () => {
    const { store: storeA } = await redis.store();
    const { jwt, jti } = token();
    await revocationList({ store: storeA }).revokeToken({ jti, exp: NOW + 300 });
    const { store: storeB } = await redis.store();
    const late = verifier(revocationList({ store: storeB }));
    expect(await reasonOf(late.verify(jwt))).toBe('token_revoked');
  });

  it('pushes a revocation to another instance by pub/sub, well before its periodic check', async () => {
    const { store: storeA } = await redis.store();
    const { store: storeB } = await redis.store();
    const a = revocationList({ store: storeA, syncInterval: 5_000, maxStaleness: 10_000 });
    const b = revocationList({ store: storeB, syncInterval: 5_000, maxStaleness: 10_000 });
    await Promise.all([a.ready(), b.ready()]);
    const { jti } = token();
    const started = Date.now();
    await a.revokeToken({ jti, exp: NOW + 300 });
    await vi.waitFor(() => expect(b.isRevoked({ jti, iss: TEST_ISSUER })).toBe(true), { timeout: 2_000, interval: 5 });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('rejects revokeToken when the store does not take it, and still enforces it on this instance', async () => {
    const { store, client } = await redis.store();
    const revocations = revocationList({ store });
    await revocations.ready();
    client.destroy();
    const { jwt, jti } = token();
    await expect(revocations.revokeToken({ jti, exp: NOW + 300 })).rejects.toThrow(StoreUnavailableError);
    expect(await reasonOf(verifier(revocations).verify(jwt))).toBe('token_revoked');
  });

  it('writes back what a flushed Redis lost, so an instance started afterwards still rejects it', async () => {
    const { store: storeA } = await redis.store();
    const survivor = revocationList({ store: storeA, syncInterval: 50, maxStaleness: 1_000 });
    const { jwt, jti } = token();
    await survivor.revokeToken({ jti, exp: NOW + 300 });
    await (await redis.client()).flushAll();
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few sync checks of the survivor
    const { store: storeB } = await redis.store();
    expect(await reasonOf(verifier(revocationList({ store: storeB })).verify(jwt))).toBe('token_revoked');
  });
});

describe('a revocation mirror out of sync past maxStaleness', () => {
  /** An instance whose Redis connection is lost for good once the list has loaded. */
  async function cutOff(onStale: 'serve' | 'reject' | undefined) {
    const { store, client, logger } = await redis.store();
    const revocations = revocationList({ store, syncInterval: 20, maxStaleness: 100, ...(onStale && { onStale }) });
    const revoked = token();
    await revocations.revokeToken({ jti: revoked.jti, exp: NOW + 300 });
    await revocations.ready();
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const app = createApp([verifyToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true, revocations })]);
    return { app, logger, revoked };
  }

  it("keeps serving by default (onStale: 'serve'), with one warning", async () => {
    const { app, logger } = await cutOff(undefined);
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/me').set('Authorization', `Bearer ${token().jwt}`);
      expect(res.status).toBe(200);
    }
    const stale = logger.warnings.filter((line) => line.includes('revocation list has not been in sync'));
    expect(stale).toHaveLength(1);
    expect(stale[0]).toContain("onStale: 'serve'");
  });

  it("answers 503 revocations_unavailable with Retry-After under onStale: 'reject'", async () => {
    const { app } = await cutOff('reject');
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token().jwt}`);
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('revocations_unavailable');
    expect(res.headers['retry-after']).toBe('1');
  });

  it.each([['serve' as const], ['reject' as const]])('still rejects a token it knows is revoked (onStale: %s)', async (onStale) => {
    const { app, revoked } = await cutOff(onStale);
    const res = await request(app).get('/me').set('Authorization', `Bearer ${revoked.jwt}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_revoked');
  });

  it("answers 200 again under onStale: 'reject' once the store is back", async () => {
    const { store, client, logger } = await redis.store();
    const revocations = revocationList({ store, syncInterval: 20, maxStaleness: 100, onStale: 'reject' });
    await revocations.ready();
    await client.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const v = verifier(revocations);
    expect(await reasonOf(v.verify(token().jwt))).toBe('revocations_unavailable');
    await client.connect();
    await vi.waitFor(async () => expect(await reasonOf(v.verify(token().jwt))).toBe('accepted'), { timeout: 3_000, interval: 50 });
    expect(logger.infos).toContain('bearer-guard: the revocation list is in sync again');
  });
});
