import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../lib/index.js';
import { createRedisStore } from '../lib/redis/index.js';
import { guardStore, StoreUnavailableError } from '../lib/store-guard.js';
import { rejection } from './helpers/outcome.js';
import { recordingLogger, startRedisServer, type RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.close());
afterEach(() => vi.restoreAllMocks());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SECRET = 'store-secret-0123456789-abcdefghijklm';
const OLD_SECRET = 'old-store-secret-0123456789-abcdefghi';
const NEW_SECRET = 'new-store-secret-0123456789-abcdefghi';
/** What `set` stores with a secret: `v1.<43-character base64url tag>.<value>`. */
const SIGNED = /^v1\.[A-Za-z0-9_-]{43}\./;

describe('createRedisStore', () => {
  it('stores a value that Redis expires after its TTL', async () => {
    const { store } = await redis.store();
    await store.set('ttl-key', 'value', 80);
    expect(await store.get('ttl-key')).toBe('value');
    await sleep(150);
    expect(await store.get('ttl-key')).toBeUndefined();
  });

  it('sets a lock only when the key is absent', async () => {
    const { store } = await redis.store();
    expect(await store.setIfAbsent('lock-key', 'a', 5_000)).toBe(true);
    expect(await store.setIfAbsent('lock-key', 'b', 5_000)).toBe(false);
    expect(await store.get('lock-key')).toBe('a');
    await store.delete('lock-key');
    expect(await store.setIfAbsent('lock-key', 'c', 5_000)).toBe(true);
  });

  it('lists only the members of a set that have not expired, and never shortens a member', async () => {
    const { store } = await redis.store();
    const nowMs = Date.now();
    await store.addMember('set-key', 'live', nowMs + 60_000);
    await store.addMember('set-key', 'live', nowMs + 1_000); // an earlier expiry is ignored
    await store.addMember('set-key', 'dead', nowMs - 1);
    expect(await store.members('set-key', nowMs)).toEqual([{ member: 'live', expiresAtMs: nowMs + 60_000 }]);
  });

  it('namespaces keys with the prefix, so two apps can share one Redis', async () => {
    const { store: one } = await redis.store({ prefix: 'app-one:' });
    const { store: two } = await redis.store({ prefix: 'app-two:' });
    await one.set('shared-name', 'one', 5_000);
    expect(await two.get('shared-name')).toBeUndefined();
    const client = await redis.client();
    expect(await client.get('app-one:shared-name')).toBe('one');
  });

  it('delivers a published message to a subscriber of another store, until it closes', async () => {
    const { store: sender } = await redis.store();
    const { store: receiver } = await redis.store();
    const received: string[] = [];
    const subscription = await receiver.subscribe('channel', (message) => received.push(message));
    await sender.publish('channel', 'first');
    await vi.waitFor(() => expect(received).toEqual(['first']), { timeout: 1_000, interval: 10 });
    await subscription.close();
    await sender.publish('channel', 'second');
    await sleep(100);
    expect(received).toEqual(['first']);
  });

  it('fails a call on a disconnected client at once instead of queueing it', async () => {
    const { store, client } = await redis.store();
    client.destroy();
    const started = Date.now();
    await expect(store.get('any')).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it.each([
    ['an unknown option', { client: {}, prefx: 'x' }, /unknown option `prefx`/],
    ['a client that is not a node-redis client', { client: { get: () => undefined } }, /`client` must be a node-redis client/],
    ['a logger without warn', { logger: {} }, /`logger` must have a `warn\(message\)` method/],
    ['a timeout of zero', { timeout: 0 }, /`timeout` must be a number ≥ 1/],
    ['a secret of 31 characters', { secret: 'x'.repeat(31) }, /`secret` must be at least 32 characters long/],
    ['a secret of 31 bytes', { secret: randomBytes(31) }, /`secret` must be at least 32 bytes long/],
    ['a secret that is a number', { secret: 12_345 }, /`secret` must be a string of at least 32 characters or a Buffer\/Uint8Array of at least 32 bytes/],
    ['a secret that is an object', { secret: { key: SECRET } }, /`secret` must be a string of at least 32 characters/],
    ['an empty list of secrets', { secret: [] }, /`secret` must not be an empty array/],
    ['a list with a short second secret', { secret: [SECRET, 'too-short'] }, /`secret\[1\]` must be at least 32 characters long/],
    ['a misspelt `secret`', { secrets: SECRET }, /unknown option `secrets` \(did you mean `secret`\?\)/],
  ])('refuses %s with ConfigError', async (_label, options, message) => {
    const client = await redis.client();
    expect(() => createRedisStore({ client, ...options } as never)).toThrow(ConfigError);
    expect(() => createRedisStore({ client, ...options } as never)).toThrow(message);
  });

  it('warns through console by default, and through nothing with logger: false', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const client = await redis.client();
    const noisy = guardStore(createRedisStore({ client }));
    const silent = guardStore(createRedisStore({ client, logger: false }));
    client.destroy();
    await expect(silent.get('x')).rejects.toThrow(StoreUnavailableError);
    expect(warn).not.toHaveBeenCalled();
    await expect(noisy.get('x')).rejects.toThrow(StoreUnavailableError);
    expect(warn).toHaveBeenCalledOnce();
  });
});

describe('shared-store guard', () => {
  it('bounds every call of a hung Redis by the store timeout', async () => {
    const { store } = await redis.store({ timeout: 100 });
    const guarded = guardStore(store);
    const paused = redis.pause(400);
    const started = Date.now();
    await expect(guarded.get('slow')).rejects.toThrow(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(300);
    await paused;
  });

  it('logs one warning per outage, without the key or value, and one info line once back', async () => {
    const client = await redis.client();
    const logger = recordingLogger();
    const guarded = guardStore(createRedisStore({ client, logger }));
    await client.disconnect();
    for (let i = 0; i < 5; i++) await expect(guarded.set('secret-key-name', 'secret-value', 1_000)).rejects.toThrow();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/shared store is unavailable/);
    expect(logger.warnings[0]).not.toMatch(/secret/);
    await client.connect();
    await vi.waitFor(async () => expect(await guarded.get('secret-key-name').catch(() => 'down')).toBeUndefined(), { timeout: 3_000, interval: 100 });
    expect(logger.infos).toEqual(['bearer-guard: the shared store answers again; sharing resumed']);
    expect(logger.warnings).toHaveLength(1);
  });

  it('fails fast while the store is down, letting one probe through per second', async () => {
    const calls = { count: 0 };
    const failing = guardStore({
      timeoutMs: 100,
      logger: undefined,
      get: async () => {
        calls.count += 1;
        throw new Error('down');
      },
    } as never);
    for (let i = 0; i < 20; i++) await expect(failing.get('k')).rejects.toThrow(StoreUnavailableError);
    expect(calls.count).toBe(1);
  });

  it('never lets a throwing logger fail a call', async () => {
    const guarded = guardStore({ timeoutMs: 100, logger: { warn: () => { throw new Error('log sink down'); } }, get: () => Promise.reject(new Error('down')) } as never);
    await expect(guarded.get('k')).rejects.toThrow(StoreUnavailableError);
  });
});

describe('createRedisStore with a `secret`', () => {
  it('round-trips a value, which Redis holds tagged', async () => {
    const { store, client, logger } = await redis.store({ secret: SECRET });
    await store.set('signed-round-trip', '{"active":true}', 5_000);
    expect(await store.get('signed-round-trip')).toBe('{"active":true}');
    expect(await client.get('bearer-guard:signed-round-trip')).toMatch(SIGNED);
    expect(logger.warnings).toEqual([]);
  });

  it.each([
    ['a signed value changed in place', (signed: string) => signed.replace('false', 'true')],
    ['a signed value with another tag', (signed: string) => `v1.${'A'.repeat(43)}.${signed.slice(47)}`],
    ['an unsigned value', () => '{"active":true}'],
    ['a value with a truncated tag', (signed: string) => signed.slice(0, 20) + signed.slice(47)],
  ])('reads %s written to Redis directly as absent, and logs it', async (_label, tamper) => {
    const { store, client, logger } = await redis.store({ secret: SECRET });
    await store.set('tampered', '{"active":false}', 5_000);
    const signed = (await client.get('bearer-guard:tampered'))!;
    await client.set('bearer-guard:tampered', tamper(signed), { PX: 5_000 });
    expect(await store.get('tampered')).toBeUndefined();
    expect(logger.warnings).toEqual(['bearer-guard: an entry in Redis failed its integrity check and was ignored (written without this `secret`, or by someone else)']);
  });

  it('logs failed checks once per store, naming no key, value or secret', async () => {
    const { store, client, logger } = await redis.store({ secret: SECRET });
    for (const key of ['forged-one', 'forged-two', 'forged-three']) {
      await client.set(`bearer-guard:${key}`, '{"active":true,"sub":"attacker"}', { PX: 5_000 });
      expect(await store.get(key)).toBeUndefined();
    }
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).not.toMatch(/forged|active|attacker|store-secret/);
  });

  it('reads an entry copied to another key as absent', async () => {
    const { store, client } = await redis.store({ secret: SECRET });
    await store.set('introspection:token-a', '{"active":true}', 5_000);
    await client.set('bearer-guard:introspection:token-b', (await client.get('bearer-guard:introspection:token-a'))!, { PX: 5_000 });
    expect(await store.get('introspection:token-b')).toBeUndefined();
    expect(await store.get('introspection:token-a')).toBe('{"active":true}');
  });

  it('reads an entry copied under another prefix as absent, even with the same secret', async () => {
    const { store: one, client } = await redis.store({ secret: SECRET, prefix: 'signed-one:' });
    const { store: two } = await redis.store({ secret: SECRET, prefix: 'signed-two:' });
    await one.set('same-name', 'one', 5_000);
    await client.set('signed-two:same-name', (await client.get('signed-one:same-name'))!, { PX: 5_000 });
    expect(await two.get('same-name')).toBeUndefined();
  });

  it('takes, reads and releases a lock', async () => {
    const { store } = await redis.store({ secret: SECRET });
    expect(await store.setIfAbsent('signed-lock', 'a', 5_000)).toBe(true);
    expect(await store.setIfAbsent('signed-lock', 'b', 5_000)).toBe(false);
    expect(await store.get('signed-lock')).toBe('a');
    await store.delete('signed-lock');
    expect(await store.get('signed-lock')).toBeUndefined();
  });

  it('verifies a value signed with an old secret listed second, and signs with the first', async () => {
    const { store: before } = await redis.store({ secret: OLD_SECRET });
    const { store: rotating } = await redis.store({ secret: [NEW_SECRET, OLD_SECRET] });
    const { store: after } = await redis.store({ secret: NEW_SECRET });
    await before.set('rotated-old', 'old', 5_000);
    await rotating.set('rotated-new', 'new', 5_000);
    expect(await rotating.get('rotated-old')).toBe('old');
    expect(await after.get('rotated-new')).toBe('new');
    expect(await after.get('rotated-old')).toBeUndefined();
    expect(await before.get('rotated-new')).toBeUndefined();
  });

  it('takes a Buffer or a Uint8Array of the same bytes as the same secret', async () => {
    const bytes = randomBytes(32);
    const { store: writer } = await redis.store({ secret: bytes });
    const { store: reader } = await redis.store({ secret: new Uint8Array(bytes) });
    await writer.set('byte-secret', 'value', 5_000);
    bytes.fill(0); // the store keeps its own copy
    expect(await reader.get('byte-secret')).toBe('value');
  });

  it('makes a store without a secret read a signed value as absent, and say so once', async () => {
    const { store: signing } = await redis.store({ secret: SECRET });
    const { store: plain, logger } = await redis.store();
    await signing.set('signed-for-plain', '{"active":true}', 5_000);
    expect(await plain.get('signed-for-plain')).toBeUndefined();
    expect(await plain.get('signed-for-plain')).toBeUndefined();
    expect(logger.warnings).toEqual(['bearer-guard: an entry in Redis is signed but this store has no `secret`, so it was ignored (give every instance the same `secret`)']);
  });

  it('keeps revocation members and messages unsigned, readable by a store without a secret', async () => {
    const { store: signing } = await redis.store({ secret: SECRET });
    const { store: plain } = await redis.store();
    const nowMs = Date.now();
    await signing.addMember('signed-set', '["t",null,"jti-1"]', nowMs + 60_000);
    expect(await plain.members('signed-set', nowMs)).toEqual([{ member: '["t",null,"jti-1"]', expiresAtMs: nowMs + 60_000 }]);
    const received: string[] = [];
    await plain.subscribe('signed-channel', (message) => received.push(message));
    await signing.publish('signed-channel', 'message');
    await vi.waitFor(() => expect(received).toEqual(['message']), { timeout: 1_000, interval: 10 });
  });

  it.each([
    ['with a secret', { secret: SECRET }, true],
    ['with a list of secrets', { secret: [NEW_SECRET, OLD_SECRET] }, true],
    ['without a secret', {}, false],
  ])('tells bearer-guard whether it signs its values %s, also through the guard', async (_label, options, signs) => {
    const { store } = await redis.store(options);
    expect(store.signsValues).toBe(signs);
    expect(guardStore(store).signsValues).toBe(signs);
  });

  it('never puts a refused secret in the error message', async () => {
    const client = await redis.client();
    const refused = await rejection<ConfigError>(Promise.resolve().then(() => createRedisStore({ client, secret: 'hunter2-hunter2' })));
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toBe('createRedisStore: `secret` must be at least 32 characters long');
    expect(refused.message).not.toContain('hunter2');
  });
});
