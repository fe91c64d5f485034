import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../lib/index.js';
import { startIntrospectionServer, type IntrospectionServer } from './helpers/introspection-server.js';
import { reasonOf } from './helpers/outcome.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

// How long a copy of a shared introspection answer lives on an instance that read it from the
// store: never past the shared entry's own expiry. Only Date is faked, so each step moves the
// clock by seconds while Redis, sockets and timers run in real time: Redis's own expiry (real
// ms) never comes into play, only the `expiresAtMs` the entry carries.

const SECRET = 's3cret-value';
const MAX_AGE_MS = 2_000;
let introspection: IntrospectionServer;
let redis: RedisServer;
let counter = 0;

beforeAll(async () => {
  [introspection, redis] = await Promise.all([startIntrospectionServer({ clientId: 'api', clientSecret: SECRET }), startRedisServer()]);
});
afterAll(async () => {
  await Promise.all([introspection.close(), redis.close()]);
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

/** An instance of the fleet: its own verifier, caches and Redis client. */
async function instance() {
  const { store } = await redis.store();
  return createVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    allowHttpLoopback: true,
    tokenFormat: 'opaque',
    store,
    introspection: { clientId: 'api', clientSecret: SECRET, endpoint: introspection.introspectionEndpoint, cacheMaxAge: MAX_AGE_MS, negativeCacheMaxAge: MAX_AGE_MS },
  });
}

function freshToken(): string {
  counter += 1;
  return `fleet-opaque-${counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
}

function answerActive(token: string, active: boolean): void {
  const body = active ? { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'client-1', exp: NOW + 600 } : { active: false };
  introspection.answer(token, { kind: 'json', body });
}

function callsFor(token: string): number {
  return introspection.requests.filter((r) => r.form.get('token') === token).length;
}

/** Lets the fire-and-forget write of a shared answer reach Redis. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Moves the frozen clock to `ms` after NOW. */
const at = (ms: number) => vi.setSystemTime(NOW * 1000 + ms);

describe('an opaque-token answer shared by a fleet', () => {
  it.each([
    ['refuses a token for at most negativeCacheMaxAge across the fleet, however late an instance read the refusal', false],
    ['accepts a token on an instance that read the acceptance late only until the shared entry expires', true],
  ] as const)('%s', async (_label, active) => {
    const [first, then] = active ? (['accepted', 'token_inactive'] as const) : (['token_inactive', 'accepted'] as const);
    const [a, b] = await Promise.all([instance(), instance()]);
    const token = freshToken();
    answerActive(token, active);
    expect(await reasonOf(a.verify(token))).toBe(first);
    await settle();
    at(MAX_AGE_MS - 500);
    expect(await reasonOf(b.verify(token))).toBe(first); // read from the store: 500 ms left
    expect(callsFor(token)).toBe(1);
    answerActive(token, !active);
    at(MAX_AGE_MS + 300);
    expect(await reasonOf(b.verify(token))).toBe(then);
    expect(callsFor(token)).toBe(2);
  });

  it('asks the IdP instead of using a shared answer nested deeper than any IdP answer may be', async () => {
    const token = freshToken();
    answerActive(token, true);
    const context = `introspection\n${new URL(introspection.introspectionEndpoint).href}\napi`;
    const key = createHash('sha256').update(`${context}\n${token}`).digest('base64url');
    const deep = `{"active":true,"iss":"${TEST_ISSUER}","aud":"${TEST_AUDIENCE}","sub":"planted","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const raw = await redis.client();
    await raw.set(`bearer-guard:introspection:${key}`, `{"active":true,"payload":${deep},"expiresAtMs":${Date.now() + 60_000}}`, { PX: 60_000 });
    const result = await (await instance()).verify(token);
    expect(result.payload.sub).toBe('client-1');
    expect(callsFor(token)).toBe(1);
  });
});
