import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../lib/index.js';
import { createRedisStore } from '../lib/redis/index.js';
import { guardStore, StoreUnavailableError } from '../lib/store-guard.js';
import { recordingLogger, startRedisServer, type RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.close());
afterEach(() => vi.restoreAllMocks());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
