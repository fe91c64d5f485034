import { createHash } from 'node:crypto';
import { Agent, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRevocationList, createVerifier, KeySourceError, verifyToken, type RevocationList, type VerifyTokenOptions } from '../lib/index.js';
import type { RedisStoreOptions } from '../lib/redis/index.js';
import { createApp } from './helpers/app.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { startIntrospectionServer, type IntrospectionServer } from './helpers/introspection-server.js';
import { makeKey, sharedKey } from './helpers/keys.js';
import { startRedisServer, type RecordingLogger, type RedisServer } from './helpers/redis-server.js';
import { rejection } from './helpers/outcome.js';
import { NOW, signToken, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

// A fleet: API instances that share nothing but Redis. Each has its own Redis client, store,
// revocation list, verifier (and so its own caches and JWKS client) and its own HTTP server.

const KEY = sharedKey('k1');
/** Another key under the same kid: its tokens must fail the signature check. */
const FORGER = makeKey('k1');
const SECRET = 's3cret-value';
let idp: IdpServer;
let introspection: IntrospectionServer;
let redis: RedisServer;
const running: Instance[] = [];
let counter = 0;

interface Instance {
  readonly revocations: RevocationList;
  readonly logger: RecordingLogger;
  /** GET /me with this bearer token; resolves to the status. */
  status(token: string): Promise<number>;
  close(): Promise<void>;
}

beforeAll(async () => {
  [idp, introspection, redis] = await Promise.all([startIdpServer({ keys: [KEY] }), startIntrospectionServer({ clientId: 'api', clientSecret: SECRET }), startRedisServer()]);
});
afterAll(async () => {
  await Promise.all(running.map((instance) => instance.close()));
  agent.destroy();
  await Promise.all([idp.close(), introspection.close(), redis.close()]);
});
afterEach(() => {
  idp.setFault(null);
  introspection.fault(null);
});

type InstanceOptions = Partial<VerifyTokenOptions> & { shared?: boolean; redis?: Partial<Omit<RedisStoreOptions, 'client'>> };

async function startInstance(options: InstanceOptions = {}): Promise<Instance> {
  const { shared = true, redis: storeOptions, ...overrides } = options;
  const { store, logger } = await redis.store(storeOptions);
  const revocations = createRevocationList(shared ? { store } : {});
  const app = createApp([
    verifyToken({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwksUri: idp.jwksUri,
      allowHttpLoopback: true,
      introspection: { clientId: 'api', clientSecret: SECRET, endpoint: introspection.introspectionEndpoint },
      revocations,
      ...(shared && { store }),
      ...overrides,
    }),
  ]);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/me`;
  const instance: Instance = {
    revocations,
    logger,
    status: (token) => statusOf(url, token),
    close: async () => {
      await revocations.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  running.push(instance);
  return instance;
}

const agent = new Agent({ keepAlive: true, maxSockets: 10 });

function statusOf(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** `size` instances (3 by default), typed as a tuple so that `const [a, b, c] =` needs no `!`. */
const startFleet = (size = 3, options: Parameters<typeof startInstance>[0] = {}) =>
  Promise.all(Array.from({ length: size }, () => startInstance(options))) as Promise<[Instance, Instance, Instance]>;

function opaqueToken(claims: Record<string, unknown> = {}): string {
  counter += 1;
  const token = `fleet-opaque-${counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
  introspection.answer(token, { kind: 'json', body: { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'client-1', exp: NOW + 600, ...claims } });
  return token;
}

function jwt(claims: Record<string, unknown> = {}): { token: string; jti: string; sub: string } {
  counter += 1;
  const jti = `fleet-jti-${counter}`;
  const sub = `fleet-user-${counter}`;
  return { token: signToken(KEY, { jti, sub, ...claims }), jti, sub };
}

function callsFor(token: string): number {
  return introspection.requests.filter((r) => r.path === '/introspect' && r.form.get('token') === token).length;
}

/** Milliseconds until every instance answers `expected` for the token (polling every 5 ms), or throws after 3 s. */
async function timeUntil(instances: readonly Instance[], token: string, expected: number): Promise<number> {
  const started = Date.now();
  await Promise.all(instances.map(async (instance) => {
    while ((await instance.status(token)) !== expected) {
      if (Date.now() - started > 3_000) throw new Error(`an instance did not answer ${expected} within 3 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }));
  return Date.now() - started;
}

describe('a fleet of three instances sharing Redis', () => {
  it('costs the IdP one introspection call for one opaque token sent to all three at once', async () => {
    const fleet = await startFleet();
    const token = opaqueToken();
    expect(await Promise.all(fleet.map((instance) => instance.status(token)))).toEqual([200, 200, 200]);
    expect(callsFor(token)).toBe(1);
  });

  it('still costs one call after 3 × 1 000 requests with that token', async () => {
    const fleet = await startFleet();
    const token = opaqueToken();
    const statuses = await Promise.all(fleet.map(async (instance) => {
      const seen: number[] = [];
      for (let batch = 0; batch < 100; batch++) seen.push(...(await Promise.all(Array.from({ length: 10 }, () => instance.status(token)))));
      return seen;
    }));
    expect(statuses.flat().filter((status) => status !== 200)).toEqual([]);
    expect(statuses.flat()).toHaveLength(3_000);
    expect(callsFor(token)).toBe(1);
  });

  it('shares an inactive answer too: one call for a refused token', async () => {
    const fleet = await startFleet();
    const token = `fleet-unknown-${++counter}`;
    expect(await Promise.all(fleet.map((instance) => instance.status(token)))).toEqual([401, 401, 401]);
    expect(callsFor(token)).toBe(1);
  });

  it('without a store, each instance asks the IdP itself (the count above is the store at work)', async () => {
    const fleet = await startFleet(3, { shared: false });
    const token = opaqueToken();
    await Promise.all(fleet.map((instance) => instance.status(token)));
    expect(callsFor(token)).toBe(3);
  });

  it('rejects a token revoked through A on B and C within 1 s', async () => {
    const [a, b, c] = await startFleet();
    const { token, jti } = jwt();
    expect(await Promise.all([a, b, c].map((instance) => instance.status(token)))).toEqual([200, 200, 200]);
    await a.revocations.revokeToken({ jti, exp: NOW + 300, iss: TEST_ISSUER });
    expect(await timeUntil([b, c], token, 401)).toBeLessThan(1_000);
  });

  it('rejects the tokens of a subject revoked through A on B and C within 1 s', async () => {
    const [a, b, c] = await startFleet();
    const { token, sub } = jwt({ iat: NOW - 5 });
    expect(await Promise.all([b, c].map((instance) => instance.status(token)))).toEqual([200, 200]);
    await a.revocations.revokeSubject({ iss: TEST_ISSUER, sub, before: NOW });
    expect(await timeUntil([b, c], token, 401)).toBeLessThan(1_000);
  });

  it('makes a fourth instance started afterwards reject revoked tokens from its first request', async () => {
    const [a] = await startFleet();
    const byJti = jwt();
    const bySubject = jwt({ iat: NOW - 5 });
    await a.revocations.revokeToken({ jti: byJti.jti, exp: NOW + 300 });
    await a.revocations.revokeSubject({ iss: TEST_ISSUER, sub: bySubject.sub, before: NOW });
    const late = await startInstance();
    expect(await late.status(byJti.token)).toBe(401);
    const other = await startInstance();
    expect(await other.status(bySubject.token)).toBe(401);
  });

  it('lets an instance started while the JWKS endpoint is down accept valid JWTs from the shared key set', async () => {
    const [a] = await startFleet(1);
    expect(await a.status(jwt().token)).toBe(200); // a fetched the set, and shared it
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    const cold = await startInstance();
    expect(await cold.status(jwt().token)).toBe(200);
    expect(await cold.status(signToken(FORGER, {}))).toBe(401);
  });

  it('answers 503 on a cold instance without a store while the JWKS endpoint is down (the control)', async () => {
    const [a] = await startFleet(1);
    await a.status(jwt().token);
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    const cold = await startInstance({ shared: false, jwks: { cooldown: 1_000 } });
    expect(await cold.status(jwt().token)).toBe(503);
  });

  it('serves a shared key set no longer than cacheMaxAge + cacheMaxAgeFallback after its fetch', async () => {
    const jwks = { cacheMaxAge: 200, cacheMaxAgeFallback: 200 };
    const [a] = await startFleet(1, { jwks });
    expect(await a.status(jwt().token)).toBe(200);
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cold = await startInstance({ jwks });
    expect(await cold.status(jwt().token)).toBe(503);
  });

  it('answers a new opaque token 200 within the store timeout while Redis hangs', async () => {
    const [a] = await startFleet(1);
    await a.status(opaqueToken()); // connected, list loaded
    const token = opaqueToken();
    const hung = redis.pause(1_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    expect(await a.status(token)).toBe(200);
    expect(Date.now() - started).toBeLessThan(800);
    expect(callsFor(token)).toBe(1);
    await hung;
  });

  it('survives Redis killed mid-run (no 5xx, introspection direct) and shares again once it is back', async () => {
    const fleet = await startFleet();
    const known = opaqueToken();
    const revoked = jwt();
    await Promise.all(fleet.map((instance) => instance.status(known)));
    await fleet[0].revocations.revokeToken({ jti: revoked.jti, exp: NOW + 300 });
    await timeUntil(fleet, revoked.token, 401);

    const outcomes: { kind: string; status: number }[] = [];
    const fresh: string[] = [];
    const probe = async (instance: Instance, kind: string, token: string) => outcomes.push({ kind, status: await instance.status(token) });
    const load = (async () => {
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        const token = opaqueToken();
        fresh.push(token);
        await Promise.all(fleet.flatMap((instance) => [
          probe(instance, 'valid', jwt().token),
          probe(instance, 'valid', known),
          probe(instance, 'valid', token),
          probe(instance, 'revoked', revoked.token),
          probe(instance, 'invalid', signToken(FORGER, {})),
          probe(instance, 'invalid', `fleet-unknown-${++counter}`),
        ]));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.stop();
    await load;

    expect(outcomes.filter(({ status }) => status >= 500)).toEqual([]);
    expect(new Set(outcomes.filter(({ kind }) => kind === 'valid').map(({ status }) => status))).toEqual(new Set([200]));
    expect(new Set(outcomes.filter(({ kind }) => kind !== 'valid').map(({ status }) => status))).toEqual(new Set([401]));
    expect(callsFor(fresh.at(-1)!)).toBe(3); // Redis down: each instance asked the IdP directly
    expect(fleet.every((instance) => instance.logger.warnings.filter((line) => line.includes('shared store is unavailable')).length === 1)).toBe(true);

    await redis.start();
    await Promise.all(fleet.map(async (instance) => {
      while (!instance.logger.infos.some((line) => line.includes('answers again'))) await new Promise((resolve) => setTimeout(resolve, 50));
    }));
    const after = opaqueToken();
    expect(await Promise.all(fleet.map((instance) => instance.status(after)))).toEqual([200, 200, 200]);
    expect(callsFor(after)).toBe(1);
    const again = jwt();
    await fleet[1].revocations.revokeToken({ jti: again.jti, exp: NOW + 300 });
    expect(await timeUntil([fleet[0], fleet[2]], again.token, 401)).toBeLessThan(1_000);
  });
});

describe('a fleet whose store has a `secret`', () => {
  const SIGNING = 'fleet-signing-secret-0123456789-abcdef';
  const OLD_SIGNING = 'old-fleet-signing-secret-0123456789-ab';
  const INTEGRITY_WARNING = /failed its integrity check/;
  let prefixes = 0;
  /** A namespace of its own per test: no earlier instance reads or writes these keys. */
  const nextPrefix = () => `fleet-signed-${++prefixes}:`;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

  /** What an attacker who can write to Redis plants: an `active` answer for a token the IdP never issued. */
  async function forgeIntrospectionAnswer(prefix: string, token: string): Promise<void> {
    const context = `introspection\n${new URL(introspection.introspectionEndpoint).href}\napi`;
    const payload = { active: true, iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'attacker', exp: NOW + 600 };
    const raw = await redis.client();
    await raw.set(`${prefix}introspection:${sha256(`${context}\n${token}`)}`, JSON.stringify({ active: true, payload, expiresAtMs: Date.now() + 60_000 }), { PX: 60_000 });
  }

  /** …or a key set holding the attacker's own public key, under the kid the IdP uses. */
  async function forgeKeySet(prefix: string): Promise<void> {
    const jwksUri = new URL(idp.jwksUri).href;
    const raw = await redis.client();
    await raw.set(`${prefix}jwks:${sha256(jwksUri)}`, JSON.stringify({ jwksUri, fetchedAtMs: Date.now(), keys: [FORGER.jwk] }), { PX: 60_000 });
  }

  const forgedToken = () => `fleet-forged-${++counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;

  it('accepts a forged introspection answer planted in Redis when the store has no secret (the control)', async () => {
    const prefix = nextPrefix();
    const token = forgedToken();
    await forgeIntrospectionAnswer(prefix, token);
    const unsigned = await startInstance({ redis: { prefix } });
    expect(await unsigned.status(token)).toBe(200);
    expect(callsFor(token)).toBe(0);
  });

  it('asks the IdP instead of trusting a forged introspection answer, and logs it', async () => {
    const prefix = nextPrefix();
    const token = forgedToken();
    await forgeIntrospectionAnswer(prefix, token);
    const signed = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await signed.status(token)).toBe(401);
    expect(callsFor(token)).toBe(1);
    expect(signed.logger.warnings.filter((line) => INTEGRITY_WARNING.test(line))).toHaveLength(1);
  });

  it('answers 503, not 200, for a token with a forged introspection answer while the IdP is down', async () => {
    const prefix = nextPrefix();
    const token = forgedToken();
    await forgeIntrospectionAnswer(prefix, token);
    introspection.fault({ kind: 'json', status: 503, body: { error: 'temporarily_unavailable' } });
    const signed = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await signed.status(token)).toBe(503);
  });

  it('lets a cold instance without a secret trust a forged key set while the JWKS endpoint is down (the control)', async () => {
    const prefix = nextPrefix();
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    await forgeKeySet(prefix);
    const cold = await startInstance({ redis: { prefix } });
    expect(await cold.status(signToken(FORGER, {}))).toBe(200);
  });

  it('answers 503 on a cold instance for a token signed by a key forged into the shared key set', async () => {
    const prefix = nextPrefix();
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    await forgeKeySet(prefix);
    const cold = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await cold.status(signToken(FORGER, {}))).toBe(503);
    expect(cold.logger.warnings.filter((line) => INTEGRITY_WARNING.test(line))).toHaveLength(1);
  });

  it('still lets a cold instance accept valid JWTs from the key set the fleet signed', async () => {
    const prefix = nextPrefix();
    const [a] = await startFleet(1, { redis: { prefix, secret: SIGNING } });
    expect(await a.status(jwt().token)).toBe(200);
    idp.setFault({ kind: 'status', status: 503 }, 'jwks');
    const cold = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await cold.status(jwt().token)).toBe(200);
    expect(await cold.status(signToken(FORGER, {}))).toBe(401);
  });

  it('reuses an answer signed with the old secret on an instance that lists it second, and not on one that dropped it', async () => {
    const prefix = nextPrefix();
    const token = opaqueToken();
    const [before] = await startFleet(1, { redis: { prefix, secret: OLD_SIGNING } });
    expect(await before.status(token)).toBe(200);
    const rotating = await startInstance({ redis: { prefix, secret: [SIGNING, OLD_SIGNING] } });
    expect(await rotating.status(token)).toBe(200);
    expect(callsFor(token)).toBe(1);
    const after = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await after.status(token)).toBe(200);
    expect(callsFor(token)).toBe(2);
  });

  it('keeps a revocation made before the secret was set in force on an instance that has it', async () => {
    const prefix = nextPrefix();
    const [unsigned] = await startFleet(1, { redis: { prefix } });
    const { token, jti } = jwt();
    await unsigned.revocations.revokeToken({ jti, exp: NOW + 300, iss: TEST_ISSUER });
    const signed = await startInstance({ redis: { prefix, secret: SIGNING } });
    expect(await signed.status(token)).toBe(401);
  });
});

describe('a fleet that finds its keys by discovery', () => {
  // A tenant issuer of its own per test: discovery is cached per process and issuer URL. Each
  // instance has a store object of its own, and discovery and JWKS clients are keyed by store too,
  // so a cold instance discovers and fetches for itself, as a new process would. An instance without
  // a store still shares them with another such instance of equal limits: `jwks.timeout` tells apart.
  let tenant: IdpServer;
  let tenants = 0;
  beforeEach(async () => {
    tenants += 1;
    tenant = await startIdpServer({ keys: [KEY], issuerPath: `/tenant-${tenants}`, jwksPath: `/tenant-${tenants}/jwks` });
  });
  afterEach(() => tenant.close());

  const discovering = (options: InstanceOptions = {}) => startInstance({ issuer: tenant.issuer, jwksUri: undefined, ...options });
  const tenantToken = (key = KEY) => signToken(key, { iss: tenant.issuer });
  const metadataUrl = () => `${tenant.issuer}/.well-known/openid-configuration`;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
  let prefixes = 0;
  const nextPrefix = () => `fleet-discovery-${++prefixes}:`;

  /** Plants a metadata document in Redis, as an attacker who can write to it would. */
  async function plantMetadata(prefix: string, document: Record<string, unknown>): Promise<void> {
    const raw = await redis.client();
    await raw.set(`${prefix}metadata:${sha256(metadataUrl())}`, JSON.stringify({ url: metadataUrl(), document }), { PX: 60_000 });
  }

  it('lets an instance started while the whole IdP is down find the jwks_uri in the fleet\'s metadata and accept valid JWTs', async () => {
    const warm = await discovering();
    expect(await warm.status(tenantToken())).toBe(200); // discovered and fetched: both shared
    tenant.setFault({ kind: 'status', status: 503 });
    const cold = await discovering();
    expect(await cold.status(tenantToken())).toBe(200);
    expect(await cold.status(tenantToken(FORGER))).toBe(401);
  });

  it('answers 503 on such an instance without a store (the control)', async () => {
    const warm = await discovering();
    expect(await warm.status(tenantToken())).toBe(200);
    tenant.setFault({ kind: 'status', status: 503 });
    const cold = await discovering({ shared: false, jwks: { timeout: 4_000 } });
    expect(await cold.status(tenantToken())).toBe(503);
  });

  it('does not let a verifier without a store pass its failed discovery on to one with a store', async () => {
    const warm = await discovering();
    expect(await warm.status(tenantToken())).toBe(200);
    tenant.setFault({ kind: 'status', status: 503 });
    // The same limits, so only the store tells the two discoveries apart.
    const alone = await discovering({ shared: false, jwks: { timeout: 4_000 } });
    expect(await alone.status(tenantToken())).toBe(503);
    const cold = await discovering({ jwks: { timeout: 4_000 } });
    expect(await cold.status(tenantToken())).toBe(200);
  });

  it('checks the fleet\'s copy as a fetched document: one naming another issuer is not used', async () => {
    const prefix = nextPrefix();
    const evil = await startIdpServer({ keys: [FORGER] });
    try {
      await plantMetadata(prefix, { issuer: 'https://attacker.test', jwks_uri: evil.jwksUri });
      tenant.setFault({ kind: 'status', status: 503 });
      const cold = await discovering({ redis: { prefix } });
      expect(await cold.status(tenantToken(FORGER))).toBe(503);
    } finally {
      await evil.close();
    }
  });

  it('follows a planted copy without a secret, and with one reads it as absent and answers 503', async () => {
    const prefix = nextPrefix();
    const evil = await startIdpServer({ keys: [FORGER] });
    try {
      await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: evil.jwksUri });
      tenant.setFault({ kind: 'status', status: 503 });
      // The control: write access to Redis is trusted without a secret, as for key sets.
      const unsigned = await discovering({ redis: { prefix } });
      expect(await unsigned.status(tenantToken(FORGER))).toBe(200);
      const signed = await discovering({ redis: { prefix, secret: 'fleet-signing-secret-0123456789-abcdef' } });
      expect(await signed.status(tenantToken(FORGER))).toBe(503);
      expect(signed.logger.warnings.filter((line) => /failed its integrity check/.test(line))).toHaveLength(1);
    } finally {
      await evil.close();
    }
  });
  describe('and falls back to the fleet\'s copy of its metadata for opaque tokens', () => {
    // The copy names where the API sends its client secret (introspection) and its callers'
    // tokens (userinfo). Without a `secret`, whoever can write to Redis could plant those, and
    // what they collect outlives their access: an unsigned copy lends its jwks_uri only.
    const SIGNING = 'fleet-metadata-secret-0123456789-abcdef';

    /** A verifier of the tenant that introspects by discovery, on a store of its own (a new process, as far as caches go). */
    async function introspectingVerifier(storeOptions: Partial<Omit<RedisStoreOptions, 'client'>>) {
      const { store } = await redis.store(storeOptions);
      return createVerifier({ issuer: tenant.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, store, introspection: { clientId: 'api', clientSecret: SECRET } });
    }

    it('sends nothing to an introspection endpoint planted in an unsigned copy, and answers the opaque token 503 saying why', async () => {
      const prefix = nextPrefix();
      const sink = await startIntrospectionServer({ clientId: 'api', clientSecret: SECRET });
      try {
        await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: tenant.jwksUri, introspection_endpoint: sink.introspectionEndpoint, userinfo_endpoint: sink.userinfoEndpoint });
        tenant.setFault({ kind: 'status', status: 503 }, 'discovery');
        const cold = await introspectingVerifier({ prefix });
        const err = await rejection(cold.verify(opaqueToken({ iss: tenant.issuer })));
        expect(err).toBeInstanceOf(KeySourceError);
        expect(err).toMatchObject({ status: 503, reason: 'key_source_unavailable' });
        expect(err.message).toMatch(/^Issuer metadata `introspection_endpoint` is known only from the shared store's unsigned copy .*no `secret`.*configure `introspection.endpoint`$/);
        expect(err.message).not.toContain(SECRET);
        expect(sink.requests).toEqual([]);
      } finally {
        await sink.close();
      }
    });

    it('sends no caller\'s token to a userinfo_endpoint planted in an unsigned copy', async () => {
      const prefix = nextPrefix();
      const sink = await startIntrospectionServer({ clientId: 'api', clientSecret: SECRET });
      try {
        await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: tenant.jwksUri, userinfo_endpoint: sink.userinfoEndpoint });
        tenant.setFault({ kind: 'status', status: 503 }, 'discovery');
        const { store } = await redis.store({ prefix });
        const cold = createVerifier({ issuer: tenant.issuer, audience: TEST_AUDIENCE, allowHttpLoopback: true, store, userinfo: true });
        const err = await rejection(cold.verify(`fleet-userinfo-${++counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`));
        expect(err).toMatchObject({ status: 503, message: expect.stringMatching(/^Issuer metadata `userinfo_endpoint` is known only from the shared store's unsigned copy/) });
        expect(sink.requests).toEqual([]);
      } finally {
        await sink.close();
      }
    });

    it('answers a JWT 503 with the fetch error when an unsigned copy has no usable jwks_uri either', async () => {
      const prefix = nextPrefix();
      await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: 'http://keys.example/jwks', introspection_endpoint: introspection.introspectionEndpoint });
      tenant.setFault({ kind: 'status', status: 503 }, 'discovery');
      const cold = await introspectingVerifier({ prefix });
      expect(await rejection(cold.verify(tenantToken()))).toMatchObject({ status: 503, message: expect.stringMatching(/^Issuer metadata is unavailable: .* answered HTTP 503$/) });
    });

    it('still verifies JWTs with the jwks_uri of an unsigned copy (the documented trust in the store\'s writers)', async () => {
      const prefix = nextPrefix();
      await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: tenant.jwksUri, introspection_endpoint: `${tenant.url}/attacker` });
      tenant.setFault({ kind: 'status', status: 503 }, 'discovery');
      const cold = await introspectingVerifier({ prefix });
      await expect(cold.verify(tenantToken())).resolves.toMatchObject({ source: 'jwt', payload: { iss: tenant.issuer } });
      expect(tenant.hits).toMatchObject({ discovery: 1, jwks: 1 });
    });

    it('introspects through the introspection_endpoint of a copy the store signed', async () => {
      const prefix = nextPrefix();
      tenant.setMetadata({ introspection_endpoint: introspection.introspectionEndpoint });
      const warm = await introspectingVerifier({ prefix, secret: SIGNING });
      await warm.verify(tenantToken()); // discovered: the copy is shared, signed
      tenant.setFault({ kind: 'status', status: 503 });
      const cold = await introspectingVerifier({ prefix, secret: SIGNING });
      const token = opaqueToken({ iss: tenant.issuer });
      await expect(cold.verify(token)).resolves.toMatchObject({ source: 'introspection', payload: { sub: 'client-1' } });
      expect(callsFor(token)).toBe(1);
    });

    it('takes the same genuine copy without its introspection_endpoint when the store has no secret (the control)', async () => {
      const prefix = nextPrefix();
      tenant.setMetadata({ introspection_endpoint: introspection.introspectionEndpoint });
      const warm = await introspectingVerifier({ prefix });
      await warm.verify(tenantToken());
      tenant.setFault({ kind: 'status', status: 503 });
      const cold = await introspectingVerifier({ prefix });
      const token = opaqueToken({ iss: tenant.issuer });
      expect(await rejection(cold.verify(token))).toMatchObject({ status: 503, message: expect.stringMatching(/unsigned copy/) });
      expect(callsFor(token)).toBe(0);
    });

    it('discovers again 5 s after falling back to an unsigned copy, so introspection resumes once the IdP answers', async () => {
      const prefix = nextPrefix();
      tenant.setMetadata({ introspection_endpoint: introspection.introspectionEndpoint });
      await plantMetadata(prefix, { issuer: tenant.issuer, jwks_uri: tenant.jwksUri });
      tenant.setFault({ kind: 'status', status: 503 }, 'discovery');
      const cold = await introspectingVerifier({ prefix });
      const token = opaqueToken({ iss: tenant.issuer });
      expect(await rejection(cold.verify(token))).toMatchObject({ status: 503 });
      tenant.setFault(null);
      expect(await rejection(cold.verify(token))).toMatchObject({ status: 503 }); // within the 5 s: the copy stands
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 5_001);
        await expect(cold.verify(token)).resolves.toMatchObject({ source: 'introspection' });
      } finally {
        vi.useRealTimers();
      }
      expect(tenant.hits.discovery).toBe(2);
    });
  });
});
