import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../lib/errors.js';
import { createOpaqueCache, type OpaqueCache, type OpaqueLookup } from '../lib/opaque-cache.js';

/** A loader that counts its calls and answers `{ sub: token, ...extra }` for a minute. */
function counting(extra: Record<string, unknown> = {}): { load: (token: string) => () => Promise<OpaqueLookup>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    load: (token) => () => {
      calls.push(token);
      return Promise.resolve({ payload: { sub: token, ...extra }, ttlMs: 60_000 });
    },
  };
}

/** A loader that counts its calls and rejects every token as inactive. */
function refusing(): { load: () => Promise<OpaqueLookup>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    load: () => {
      calls += 1;
      return Promise.reject(new InvalidTokenError('token_inactive', 'Token is not active'));
    },
  };
}

/** Looks every token up once, ignoring rejections. */
async function lookUpAll(cache: OpaqueCache, tokens: readonly string[], load: (token: string) => () => Promise<OpaqueLookup>, nowMs = Date.now()): Promise<void> {
  for (const token of tokens) await cache.lookup(token, nowMs, load(token)).catch(() => undefined);
}

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('createOpaqueCache', () => {
  it('answers a token again from memory until its time to live is over', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 0 });
    const { load, calls } = counting();
    const now = Date.now();
    expect(await cache.lookup('a', now, load('a'))).toEqual({ payload: { sub: 'a' }, cached: false });
    expect(await cache.lookup('a', now + 59_000, load('a'))).toEqual({ payload: { sub: 'a' }, cached: true });
    expect(await cache.lookup('a', now + 61_000, load('a'))).toEqual({ payload: { sub: 'a' }, cached: false });
    expect(calls).toEqual(['a', 'a']);
  });

  it('evicts the least recently used token beyond maxEntries, keeping one that is in use', async () => {
    const cache = createOpaqueCache({ maxEntries: 2, negativeTtlMs: 0 });
    const { load, calls } = counting();
    const now = Date.now();
    await cache.lookup('a', now, load('a'));
    await cache.lookup('b', now, load('b'));
    await cache.lookup('a', now, load('a')); // a is now the most recently used
    await cache.lookup('c', now, load('c')); // evicts b
    expect(cache.size).toBe(2);
    expect((await cache.lookup('a', now, load('a'))).cached).toBe(true);
    expect((await cache.lookup('b', now, load('b'))).cached).toBe(false);
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('makes concurrent look-ups of one uncached token share one call', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 0 });
    const { load, calls } = counting();
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.lookup('a', Date.now(), load('a'))));
    expect(calls).toEqual(['a']);
    expect(results.every((result) => result.payload.sub === 'a')).toBe(true);
  });

  it('remembers a rejection only for negativeTtlMs, and never an outage', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 1_000 });
    let calls = 0;
    const inactive = () => {
      calls += 1;
      return Promise.reject(new InvalidTokenError('token_inactive', 'Token is not active'));
    };
    const now = Date.now();
    await expect(cache.lookup('x', now, inactive)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(cache.lookup('x', now + 500, inactive)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(1);
    await expect(cache.lookup('x', now + 1_500, inactive)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(2);

    let outages = 0;
    const down = () => {
      outages += 1;
      return Promise.reject(new Error('connect ECONNREFUSED'));
    };
    await expect(cache.lookup('y', now, down)).rejects.toThrow('ECONNREFUSED');
    await expect(cache.lookup('y', now, down)).rejects.toThrow('ECONNREFUSED');
    expect(outages).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('hands each request a rejection of its own, so changing one (withRealm, an app) changes no other', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 1_000 });
    const { load } = refusing();
    const now = Date.now();
    const first = await cache.lookup('x', now, load).catch((err: InvalidTokenError) => err);
    (first as InvalidTokenError).withRealm('tampered');
    const again = await cache.lookup('x', now + 1, load).catch((err: InvalidTokenError) => err);
    const third = await cache.lookup('x', now + 2, load).catch((err: InvalidTokenError) => err);
    expect(again).toBeInstanceOf(InvalidTokenError);
    expect(again).not.toBe(third);
    expect((again as InvalidTokenError).headers['WWW-Authenticate']).not.toContain('tampered');
    expect(again).toMatchObject({ reason: 'token_inactive', message: 'Token is not active' });
  });

  it('keeps every accepted answer through a flood of rejected tokens', async () => {
    const cache = createOpaqueCache({ maxEntries: 100, negativeTtlMs: 60_000 });
    const legit = counting();
    const junk = refusing();
    await lookUpAll(cache, names('legit', 100), legit.load);
    await lookUpAll(cache, names('junk', 1_000), () => junk.load);
    expect(junk.calls()).toBe(1_000);
    await lookUpAll(cache, names('legit', 100), legit.load);
    expect(legit.calls).toHaveLength(100);
  });

  it.each([
    [100, 10],
    [25, 3],
    [5, 1],
    [1, 1],
  ])('keeps, with maxEntries %i, the %i most recent rejections', async (maxEntries, kept) => {
    const cache = createOpaqueCache({ maxEntries, negativeTtlMs: 60_000 });
    const junk = refusing();
    const tokens = names('junk', kept + 1);
    await lookUpAll(cache, tokens, () => junk.load);
    await lookUpAll(cache, tokens.slice(1), () => junk.load);
    expect(junk.calls()).toBe(kept + 1);
    await lookUpAll(cache, tokens.slice(0, 1), () => junk.load);
    expect(junk.calls()).toBe(kept + 2);
  });

  it('bounds accepted answers by their total size, evicting the least recently used first', async () => {
    const pad = 'x'.repeat(300);
    const size = Buffer.byteLength(JSON.stringify({ sub: 'a', pad }));
    const cache = createOpaqueCache({ maxEntries: 100, negativeTtlMs: 0, maxBytes: 3 * size });
    const { load, calls } = counting({ pad });
    await lookUpAll(cache, ['a', 'b', 'c', 'a', 'd'], load); // d evicts b, the least recently used
    expect(cache.size).toBe(3);
    await lookUpAll(cache, ['a', 'c', 'd', 'b'], load);
    expect(calls).toEqual(['a', 'b', 'c', 'd', 'b']);
  });

  it('never keeps an answer larger than maxBytes, nor evicts others for it', async () => {
    const cache = createOpaqueCache({ maxEntries: 100, negativeTtlMs: 0, maxBytes: 1_000 });
    const small = counting();
    const huge = counting({ pad: 'x'.repeat(1_000) });
    await lookUpAll(cache, ['small'], small.load);
    await lookUpAll(cache, ['huge', 'huge'], huge.load);
    await lookUpAll(cache, ['small'], small.load);
    expect(huge.calls).toEqual(['huge', 'huge']);
    expect(small.calls).toEqual(['small']);
  });

  it('keeps a rejection the loader returns for its own ttlMs when that is shorter than negativeTtlMs', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 10_000 });
    let calls = 0;
    const shared = (): Promise<OpaqueLookup> => {
      calls += 1;
      return Promise.resolve({ rejection: new InvalidTokenError('token_inactive', 'Token is not active'), ttlMs: 1_000 });
    };
    const now = Date.now();
    await expect(cache.lookup('x', now, shared)).rejects.toMatchObject({ reason: 'token_inactive' });
    await expect(cache.lookup('x', now + 900, shared)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(1);
    await expect(cache.lookup('x', now + 1_100, shared)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(2);
  });

  it('keeps a rejection the loader returns no longer than negativeTtlMs', async () => {
    const cache = createOpaqueCache({ maxEntries: 10, negativeTtlMs: 1_000 });
    let calls = 0;
    const shared = (): Promise<OpaqueLookup> => {
      calls += 1;
      return Promise.resolve({ rejection: new InvalidTokenError('token_inactive', 'Token is not active'), ttlMs: 3_600_000 });
    };
    const now = Date.now();
    await expect(cache.lookup('x', now, shared)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(cache.lookup('x', now + 1_100, shared)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(2);
  });
});
