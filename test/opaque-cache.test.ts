import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../lib/errors.js';
import { createOpaqueCache, type OpaqueLookup } from '../lib/opaque-cache.js';

/** A loader that counts its calls and answers `{ sub: token }` for a minute. */
function counting(): { load: (token: string) => () => Promise<OpaqueLookup>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    load: (token) => () => {
      calls.push(token);
      return Promise.resolve({ payload: { sub: token }, ttlMs: 60_000 });
    },
  };
}

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
});
